import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new secret for the webhook URL: 32 random bytes, URL-safe. */
export function newWebhookToken(random: (size: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/**
 * A webhook secret ready for comparisons. Both sides are hashed before a constant-time compare, so
 * neither the content nor the length of the secret leaks through timing; the secret's own digest is
 * computed once, not on every call.
 */
export class WebhookSecret {
  private readonly digest: Buffer;

  constructor(readonly token: string) {
    this.digest = sha256(token);
  }

  matches(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate), this.digest);
  }
}

function sha256(value: string): Buffer {
  // The one-shot form: no Hash object per call (this runs on every webhook call).
  return hash('sha256', value, 'buffer');
}
