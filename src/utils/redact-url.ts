/**
 * A URL as it may be shown to a person or written to a report: user and password replaced.
 * Accepts strings that are not URLs and returns them unchanged, so callers need no guard.
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('@');
  if (at === -1) return url;
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = parsed.username ? '***' : '';
    parsed.password = parsed.password ? '***' : '';
    return parsed.href;
  } catch {
    // Not a URL, but it may still carry "scheme://user:password@": hide everything before the @.
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
  }
}
