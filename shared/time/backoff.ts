/** How transient failures (WhatsApp server errors, timeouts, a file host's 5xx) are retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included; after the last one the message fails and is refunded. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 5_000, maxDelayMs: 300_000 };

/** Capped exponential backoff with full jitter, so retries of many messages do not line up. */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
