// Types for the parts of undici that dl loads one by one (see http/undici.ts): each module
// exports its class as `module.exports`, typed as undici types it.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export = Agent;
}
declare module 'undici/lib/dispatcher/pool.js' {
  import { Pool } from 'undici';
  export = Pool;
}
