/** A header field name as HTTP allows it (a token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `Name: value` split at its first colon (the value may hold more), the name lower-cased and both
 * trimmed; undefined when nothing comes before the colon.
 */
export function splitHeader(text: string): { name: string; value: string } | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { name: text.slice(0, colon).trim().toLowerCase(), value: text.slice(colon + 1).trim() };
}
