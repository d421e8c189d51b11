/**
 * The token in what follows `/whatsapp/` in a request's URL, or '' when it cannot be a token (bad
 * percent-encoding, more path segments). Never throws: a URL is the caller's to malform, and an
 * unreadable one simply names no webhook (404).
 */
export function tokenFromPath(rest: string): string {
  const path = rest.split('?', 1)[0]!.split('#', 1)[0]!;
  if (path.includes('/')) return '';
  try {
    return decodeURIComponent(path);
  } catch {
    return '';
  }
}
