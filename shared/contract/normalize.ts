const CHAT_ID = /^[0-9]+$/;

/**
 * Normalises a chat id to decimal digits without leading zeros ("0" stays "0"), so "077234", "77234"
 * and 77234 name the same chat. Returns undefined when the value is not a chat id.
 */
export function normalizeChatId(input: unknown): string | undefined {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? String(input) : undefined;
  }
  if (typeof input !== 'string') return undefined;
  const digits = input.trim(); // templated CRM fields often carry a stray space
  if (!CHAT_ID.test(digits)) return undefined;
  return digits.replace(/^0+(?=.)/, '');
}

/** True for an absolute http:// or https:// URL with a host: the only kinds the downloader fetches. */
export function isHttpUrl(input: string): boolean {
  if (!URL.canParse(input.trim())) return false;
  const url = new URL(input.trim());
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/** The file name as WhatsApp will show it, or undefined when it is empty or contains a path separator. */
export function normalizeFileName(input: string): string | undefined {
  const name = input.trim();
  return name !== '' && !/[/\\]/.test(name) ? name : undefined;
}
