import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new secret for the webhook URL: 32 random bytes, URL-safe. */
export function newWebhookToken(random: (size: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/**
 * Compares in constant time. Hashing first gives both sides the same length, so neither the content nor
 * the length of the secret leaks through timing.
 */
export function tokensMatch(candidate: string, secret: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(candidate), digest(secret));
}
