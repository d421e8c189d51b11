import type { OutboxMessage } from '../model';
import type { OutboxRepository } from '../store/types';

/** Timers as a parameter, so tests run a day in a millisecond. */
export interface ExpiryTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LoggedOutExpiryDeps {
  readonly outbox: OutboxRepository;
  /** How long queued messages wait for a logged-out account to be linked again. */
  readonly ttlMs: number;
  readonly refundDelayMs: number;
  readonly now: () => number;
  readonly timers: ExpiryTimers;
  readonly onFailed: (messages: readonly OutboxMessage[], reason: string) => void;
  readonly onError: (error: unknown) => void;
}

/** Default: a day to link the phone again before queued messages fail and give their quota back. */
export const DEFAULT_LOGGED_OUT_TTL_MS = 24 * 3_600_000;

/** Node clamps longer timer delays; a long wait is re-armed when it fires early. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Queued messages of a logged-out account wait for a relink, but not forever: each fails (and is
 * refunded) once it has waited `ttlMs` since the later of the logout and its own acceptance.
 */
export class LoggedOutExpiry {
  /** Watched accounts, with the timer of their next sweep (null: nothing queued to expire). */
  private readonly watched = new Map<string, unknown | null>();
  private closed = false;

  constructor(private readonly deps: LoggedOutExpiryDeps) {}

  /** Starts counting for an account logged out at `loggedOutAt` (idempotent). */
  watch(accountId: string, loggedOutAt: number): void {
    if (this.closed || this.watched.has(accountId)) return;
    this.arm(accountId, loggedOutAt + this.deps.ttlMs);
  }

  /** A message was queued for the account at `createdAt`; if it is watched and idle, count for it. */
  queued(accountId: string, createdAt: number): void {
    if (this.watched.get(accountId) === null) this.arm(accountId, createdAt + this.deps.ttlMs);
  }

  isWatching(accountId: string): boolean {
    return this.watched.has(accountId);
  }

  /** The account is linked again (or gone): its messages no longer expire. */
  unwatch(accountId: string): void {
    this.deps.timers.clearTimeout(this.watched.get(accountId));
    this.watched.delete(accountId);
  }

  close(): void {
    this.closed = true;
    for (const accountId of [...this.watched.keys()]) this.unwatch(accountId);
  }

  private arm(accountId: string, at: number): void {
    const wait = Math.min(Math.max(0, at - this.deps.now()), MAX_TIMER_MS);
    this.watched.set(
      accountId,
      this.deps.timers.setTimeout(() => {
        if (this.deps.now() < at) return this.arm(accountId, at);
        void this.sweep(accountId).catch(this.deps.onError);
      }, wait),
    );
  }

  private async sweep(accountId: string): Promise<void> {
    const now = this.deps.now();
    const reason = `WhatsApp logged this account out and the phone was not linked again within ${describeDuration(this.deps.ttlMs)}`;
    const { failed, oldestRemaining } = await this.deps.outbox.expireQueued(accountId, now - this.deps.ttlMs, reason, now, now + this.deps.refundDelayMs);
    if (failed.length > 0) this.deps.onFailed(failed, reason);
    if (!this.watched.has(accountId) || this.closed) return;
    if (oldestRemaining === undefined) this.watched.set(accountId, null);
    else this.arm(accountId, oldestRemaining + this.deps.ttlMs);
  }
}

function describeDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
