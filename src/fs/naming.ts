import filenamify from 'filenamify';

/** Longest final name in UTF-8 bytes; with `.part` it stays well under the usual 255-byte limit. */
export const MAX_NAME_BYTES = 240;

/** Name used when the URL path gives none (`http://host/`, `http://host/dir/`). */
export const FALLBACK_NAME = 'index.html';

/**
 * The file name a URL suggests: the last segment of its path, percent-decoded, without query or
 * fragment, made safe to use as a single path segment on any common file system.
 */
export function nameFromUrl(url: Pick<URL, 'pathname'>): string {
  const { pathname } = url;
  const raw = pathname.slice(pathname.lastIndexOf('/') + 1);
  return sanitizeName(percentDecode(raw));
}

/**
 * Names that need no work: plain ASCII letters, digits and `._+-`, not starting with a dot,
 * not ending with a dot, short, and not a Windows device name. Most URLs end in one.
 */
const PLAIN_NAME = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,199}$/;
const DEVICE_NAME = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

function isPlainName(name: string): boolean {
  return PLAIN_NAME.test(name) && !name.endsWith('.') && !DEVICE_NAME.test(name);
}

function percentDecode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a malformed escape keeps its literal text
  }
}

/**
 * One safe path segment: no separators, no `.`/`..`, no control or bidi characters, no
 * reserved device names, at most MAX_NAME_BYTES bytes with the extension kept.
 */
export function sanitizeName(name: string): string {
  if (isPlainName(name)) return name;
  if (name.trim() === '') return FALLBACK_NAME;
  // filenamify handles separators, reserved characters, control and format (bidi) characters,
  // Windows device names and trailing dots; it truncates by characters, we truncate by bytes.
  const safe = filenamify(name, { replacement: '_', maxLength: 4 * MAX_NAME_BYTES });
  return fitBytes(safe, '', MAX_NAME_BYTES);
}

/** Splits `name.ext` so that a suffix can go between them (`archive.tar.gz` -> `archive.tar`, `.gz`). */
export function splitExtension(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  // A leading dot names a hidden file, not an extension; a long "extension" is part of the name.
  if (dot <= 0 || name.length - dot > 16) return { base: name, ext: '' };
  return { base: name.slice(0, dot), ext: name.slice(dot) };
}

/** `base + suffix + ext` cut down (in the base) to at most `maxBytes` UTF-8 bytes. */
export function fitBytes(name: string, suffix: string, maxBytes: number): string {
  const { base, ext } = splitExtension(name);
  const tail = suffix + ext;
  if (Buffer.byteLength(base) + Buffer.byteLength(tail) <= maxBytes) return base + tail;
  let budget = maxBytes - Buffer.byteLength(tail);
  let cut = '';
  for (const ch of base) {
    const bytes = Buffer.byteLength(ch);
    if (bytes > budget) break;
    budget -= bytes;
    cut += ch;
  }
  // The cut may land after a space or a dot, which some file systems drop or refuse.
  return (cut.replace(/[. ]+$/, '') || '_') + tail;
}
