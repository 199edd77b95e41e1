// What dl's bundles get for `require('node:module')`: its createRequire, whose require loads
// Node's own modules with the bundle's require and loads node:module itself only for a package
// or a file. node:module brings Node's ES module loader and source maps with it, ~1.4 ms of
// every run's start-up, and most runs require nothing but Node's own modules.
'use strict';
let nodeModule;
exports.createRequire = (from) => {
  let required;
  return (id) => (id.startsWith('node:') ? require(id) : (required ??= (nodeModule ??= require('node:module')).createRequire(from))(id));
};
