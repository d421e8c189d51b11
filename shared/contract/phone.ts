/** A phone number reduced to its international digits, or why it cannot be. */
export type PhoneResult =
  | { readonly ok: true; readonly digits: string }
  | { readonly ok: false; readonly reason: 'format' | 'leading-zero' };

// People and CRMs format numbers for reading: "+1 (415) 123-1234", "0044 20.7946.0958".
const DECORATION = /[\s\-.()]/g;
const DIGITS = /^[0-9]+$/;
const MIN_DIGITS = 7; // the shortest national numbers plus a country code
const MAX_DIGITS = 15; // E.164

/**
 * Normalises a phone number in international format to digits, country code first, no "+".
 * Accepts a string, or a JSON integer (some CRMs store numbers as numbers).
 */
export function normalizePhone(input: unknown): PhoneResult {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (typeof input === 'number' && Number.isSafeInteger(input) && input >= 0) text = String(input);
  else return { ok: false, reason: 'format' };

  let digits = text.replace(DECORATION, '');
  if (digits.startsWith('+')) digits = digits.slice(1);
  else if (digits.startsWith('00')) digits = digits.slice(2); // "00" is the international call prefix, like "+"

  if (!DIGITS.test(digits)) return { ok: false, reason: 'format' };
  // A leading 0 is a national trunk prefix: the country code is missing, whatever the length.
  if (digits.startsWith('0')) return { ok: false, reason: 'leading-zero' };
  if (digits.length < MIN_DIGITS || digits.length > MAX_DIGITS) return { ok: false, reason: 'format' };
  return { ok: true, digits };
}
