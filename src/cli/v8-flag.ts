/** The name of a V8 option on Node's command line as V8 reads it (`_` for `-`), without its value. */
function v8FlagName(arg: string): string {
  return arg.split('=', 1)[0]!.replaceAll('_', '-');
}

/**
 * Whether this is the V8 dl's settings of V8 flags were measured under (11.3, Node 20's). A flag
 * can be set but not read, its defaults and meaning change between versions (newer ones hold the
 * young generation's growth factor at 2 or more, and tier up through Maglev first), and a flag V8
 * does not know is an error on stderr: elsewhere V8 is left as it is.
 */
export function measuredV8(): boolean {
  return process.versions.v8.startsWith('11.3.');
}

/**
 * Whether dl may set these V8 flags itself: under the V8 it measured them with, and when none of
 * them was given on Node's command line (whose settings win).
 */
export function tunable(...flags: string[]): boolean {
  return measuredV8() && !process.execArgv.some((arg) => flags.includes(v8FlagName(arg)));
}
