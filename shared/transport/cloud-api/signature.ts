import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The header Meta signs webhook POSTs with, as `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=<hex HMAC-SHA256 of the raw body with the app secret>`, the header a genuine POST carries. */
export function signBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * Whether a webhook POST comes from Meta: its raw body (the bytes as received, before any JSON parsing)
 * signed with the app secret. Compared in constant time.
 */
export function verifySignature(rawBody: Buffer | string, header: string | null | undefined, appSecret: string): SignatureCheck {
  if (!appSecret) return { ok: false, reason: 'no app secret is set to check the signature with' };
  if (header === undefined || header === null || header === '') return { ok: false, reason: 'the X-Hub-Signature-256 header is missing' };
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return { ok: false, reason: 'the X-Hub-Signature-256 header is not sha256=<64 hex digits>' };
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: 'the signature does not match the body' };
  return { ok: true };
}

export type VerificationAnswer = { readonly ok: true; readonly challenge: string } | { readonly ok: false; readonly reason: string };

/**
 * The GET Meta sends when a webhook URL is set: `hub.mode=subscribe` with our verify token gets
 * `hub.challenge` back (as the body of a 200); anything else is refused (a 403).
 */
export function answerVerification(query: URLSearchParams | Readonly<Record<string, string | undefined>>, verifyToken: string): VerificationAnswer {
  const get = (name: string): string | undefined => (query instanceof URLSearchParams ? (query.get(name) ?? undefined) : query[name]);
  const mode = get('hub.mode');
  const token = get('hub.verify_token');
  const challenge = get('hub.challenge');
  if (mode !== 'subscribe') return { ok: false, reason: 'hub.mode is not subscribe' };
  if (!verifyToken) return { ok: false, reason: 'no verify token is set' };
  if (token === undefined || !sameText(token, verifyToken)) return { ok: false, reason: 'hub.verify_token does not match' };
  if (challenge === undefined || challenge === '') return { ok: false, reason: 'hub.challenge is missing' };
  return { ok: true, challenge };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
