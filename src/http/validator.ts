/** Response headers as undici hands them over. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What identifies one version of a resource, so that a resumed body is the same version. */
export interface Validator {
  etag?: string;
  lastModified?: string;
}

/**
 * The validator of a response, usable in If-Range: a strong ETag, else Last-Modified. A weak
 * ETag cannot be used in If-Range, and without any validator a partial file cannot be resumed
 * safely (nothing would tell that the resource changed in between).
 */
export function validatorOf(headers: ResponseHeaders): Validator | undefined {
  const etag = first(headers.etag);
  const lastModified = first(headers['last-modified']);
  const strong = etag && !etag.startsWith('W/') ? etag : undefined;
  // Literals, not conditional spreads: those cost half a microsecond a response.
  if (!strong) return lastModified ? { lastModified } : undefined;
  return lastModified ? { etag: strong, lastModified } : { etag: strong };
}

/** The If-Range value for a validator. */
export function ifRange(validator: Validator): string | undefined {
  return validator.etag ?? validator.lastModified;
}

/** Whether a 206 answer is for the version the partial file holds. */
export function sameVersion(held: Validator, response: Validator | undefined): boolean {
  if (!response) return true; // the server did not repeat it; If-Range already asked
  if (held.etag && response.etag) return held.etag === response.etag;
  if (held.lastModified && response.lastModified) return held.lastModified === response.lastModified;
  return true;
}

export interface ContentRange {
  start: number;
  end: number;
  total: number | undefined;
}

/** `bytes 100-199/1000` (or `/*`); undefined when malformed. */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const match = value ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim()) : null;
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
