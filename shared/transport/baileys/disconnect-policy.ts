import { retryDelay } from '../../time/backoff';

/**
 * What to do when a socket closes, by Baileys' disconnect code (`DisconnectReason`):
 * - `restart`: a new socket at once (515, which WhatsApp sends right after a QR scan or pairing);
 * - `reconnect`: a new socket after a capped, jittered backoff (timeouts, lost or closed connections,
 *   server errors, and any code we do not know, as a hiccup is likelier than a verdict);
 * - `logged_out`: the link is gone (401 logged out, 403 forbidden, 411 multi-device mismatch, 419):
 *   stop and wait for the phone to be linked again;
 * - `replaced`: another client opened this account's session (440); reconnecting would only make the
 *   two kick each other off, so stop and say so.
 */
export type DisconnectAction = 'restart' | 'reconnect' | 'logged_out' | 'replaced';

const LOGGED_OUT_CODES = new Set([401, 403, 411, 419]);

export function disconnectAction(code: number | undefined): DisconnectAction {
  if (code === 515) return 'restart';
  if (code === 440) return 'replaced';
  if (code !== undefined && LOGGED_OUT_CODES.has(code)) return 'logged_out';
  return 'reconnect';
}

/** A sentence for the account's state, saying what happened and what the owner can do. */
export function describeDisconnect(action: DisconnectAction, code: number | undefined, message?: string): string {
  switch (action) {
    case 'logged_out':
      return code === 403
        ? 'WhatsApp refused this linked device (403): link the phone again.'
        : `WhatsApp logged this device out${code === undefined ? '' : ` (${code})`}: link the phone again; queued messages wait for it.`;
    case 'replaced':
      return 'Another client is using this WhatsApp account (440): close the other session or program, then reconnect.';
    case 'restart':
      return 'WhatsApp asked for a new connection (515).';
    case 'reconnect':
      return `The connection to WhatsApp was lost (${[code, message].filter((part) => part !== undefined && part !== '').join(': ') || 'no reason given'}); reconnecting.`;
  }
}

export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** 1 s, 2 s, 4 s... up to 2 min: fast for a blip, gentle on WhatsApp during an outage. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseDelayMs: 1_000, maxDelayMs: 120_000 };

/** Delay before reconnect attempt `attempt` (1-based): capped exponential with jitter (half to full). */
export function reconnectDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  return retryDelay({ maxAttempts: Number.POSITIVE_INFINITY, ...policy }, attempt, random);
}
