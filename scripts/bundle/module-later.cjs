// What dl's bundles get for `require('node:module')`: a createRequire whose require takes Node's
// own modules, packages and absolute paths through the bundle's require, which finds them as
// one made from the bundle's path would (both files are in dist/), and loads node:module only
// for a path relative to `from`. node:module brings Node's ES module loader and source maps with
// it, ~1.4 ms of every run's start-up.
'use strict';
let nodeModule;
exports.createRequire = (from) => {
  let relative;
  return (id) => (id.startsWith('.') ? (relative ??= (nodeModule ??= require('node:module')).createRequire(from))(id) : require(id));
};
