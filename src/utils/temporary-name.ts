/**
 * A name beside `path` to write a file under before a rename or a link puts it in place: the pid
 * keeps processes on one host apart, the random part processes of other hosts sharing the
 * folder. No cryptographic randomness is needed for that, nor Node's crypto module loaded for it.
 */
export function temporaryName(path: string): string {
  return `${path}.${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
}
