/** A checksum an input asks for: aria2's `sha-256=HEX`, `sha-1=HEX` or `md5=HEX`. */
export interface Checksum {
  /** Node's name for the hash. */
  algorithm: 'sha256' | 'sha1' | 'md5';
  /** aria2's name for it, as written back to the joblog. */
  label: 'sha-256' | 'sha-1' | 'md5';
  hex: string;
}

const ALGORITHMS: Record<string, [Checksum['algorithm'], Checksum['label'], number]> = {
  'sha-256': ['sha256', 'sha-256', 64],
  sha256: ['sha256', 'sha-256', 64],
  'sha-1': ['sha1', 'sha-1', 40],
  sha1: ['sha1', 'sha-1', 40],
  md5: ['md5', 'md5', 32],
};

const HEX = /^[0-9a-f]+$/;

/** The checksum, or why it is not one. */
export function parseChecksum(text: string): Checksum | string {
  const eq = text.indexOf('=');
  const known = ALGORITHMS[text.slice(0, eq).trim().toLowerCase()];
  const hex = text.slice(eq + 1).trim().toLowerCase();
  if (eq <= 0 || !known) return `checksum must be sha-256=HEX, sha-1=HEX or md5=HEX: ${JSON.stringify(text)}`;
  if (hex.length !== known[2] || !HEX.test(hex)) return `checksum ${known[1]} needs ${known[2]} hex digits: ${JSON.stringify(text)}`;
  return { algorithm: known[0], label: known[1], hex };
}
