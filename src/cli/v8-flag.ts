/** The name of a V8 option on Node's command line as V8 reads it (`_` for `-`), without its value. */
export function v8FlagName(arg: string): string {
  return arg.split('=', 1)[0]!.replaceAll('_', '-');
}
