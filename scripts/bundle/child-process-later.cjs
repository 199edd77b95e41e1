// What commander gets for `require('node:child_process')` in dist/cli.cjs: the module, loaded
// when first used. commander loads it to run executable subcommands, which dl has none of, and
// loading it (and the modules it loads) took 8 ms of every run's start-up.
let loaded;
module.exports = new Proxy({}, { get: (_, name) => (loaded ??= require('node:child_process'))[name] });
