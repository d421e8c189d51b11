import type { WorkspaceStore } from '../store/types';

const DAY_MS = 24 * 3_600_000;
/** Final messages and received messages are kept this long by default. */
export const DEFAULT_RETENTION_MS = 30 * DAY_MS;
/** How often a round runs, and how soon after opening the first one does. */
const EVERY_MS = 5 * 60_000;
const FIRST_AFTER_MS = 60_000;
/** Rows per prune batch: one short commit each. */
const BATCH = 500;
/** Pages (4 KB) per step of giving space back. */
const RECLAIM_PAGES = 512;
/**
 * After each batch or step the round waits this many times as long as the batch took (at least
 * MIN_PAUSE_MS): the store is a synchronous SQLite file in this very process, so while a batch runs
 * nothing else does, and this keeps retention's share of the process below a tenth.
 */
const PAUSE_FACTOR = 10;
const MIN_PAUSE_MS = 5;

export interface RetentionOptions {
  /**
   * How long final messages (FINAL_STATUSES, with their history and files) and received messages are
   * kept (ms); 0 keeps everything. Default 30 days. Keep it above a day: the daily cap counts sent messages.
   */
  readonly keepMs?: number;
  /** How often a round runs (default 5 minutes); the first runs a minute after opening, or `firstAfterMs`. */
  readonly everyMs?: number;
  readonly firstAfterMs?: number;
  /** Rows per batch (default 500). */
  readonly batch?: number;
  /** The pause after a batch, as a multiple of the batch's own time (default 10; 0 only yields a turn). */
  readonly pauseFactor?: number;
}

/** What one round did. */
export interface RetentionRound {
  /** Final outgoing messages removed. */
  readonly messages: number;
  /** Received messages removed. */
  readonly received: number;
  /** Batches committed (outgoing and received). */
  readonly batches: number;
  /** Free pages left in the file once the round gave space back (0 where the store reclaims on its own). */
  readonly freePages: number;
}

export interface RetentionDeps {
  readonly store: WorkspaceStore;
  readonly now: () => number;
  readonly reportError: (error: unknown) => void;
}

/**
 * Keeps the store bounded, off the hot path: every few minutes a round removes final messages and
 * received messages older than the window, in batches of a short commit each, pausing after each so that
 * accepts are not held up, and stops when a batch removes less than a full batch; then it gives the
 * freed space back a step at a time. Every process of a shared PostgreSQL store runs its own rounds: the
 * deletes are idempotent (a row another process is removing is skipped, SKIP LOCKED), so several only
 * share the work.
 */
export class Retention {
  readonly keepMs: number;
  private readonly everyMs: number;
  private readonly batch: number;
  private readonly pauseFactor: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionRound> | undefined;
  private closed = false;
  /** Ends the current pause early (close). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly deps: RetentionDeps,
    private readonly options: RetentionOptions = {},
  ) {
    this.keepMs = options.keepMs ?? DEFAULT_RETENTION_MS;
    this.everyMs = options.everyMs ?? EVERY_MS;
    this.batch = options.batch ?? BATCH;
    this.pauseFactor = options.pauseFactor ?? PAUSE_FACTOR;
  }

  /** Schedules the rounds (none when everything is kept). */
  start(): void {
    if (this.keepMs === 0 || this.closed) return;
    this.schedule(this.options.firstAfterMs ?? Math.min(FIRST_AFTER_MS, this.everyMs));
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.round()
        .catch((error: unknown) => this.deps.reportError(error))
        .finally(() => {
          if (!this.closed) this.schedule(this.everyMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One round now (or the one already running): what it removed. */
  round(): Promise<RetentionRound> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<RetentionRound> {
    if (this.keepMs === 0) return { messages: 0, received: 0, batches: 0, freePages: 0 };
    const before = this.deps.now() - this.keepMs;
    const outgoing = await this.inBatches((limit) => this.deps.store.outbox.pruneFinal(before, limit));
    const received = await this.inBatches((limit) => this.deps.store.inbound.prune(before, limit));
    let freePages = 0;
    if (outgoing.removed + received.removed > 0) {
      while (!this.closed) {
        freePages = await this.paced(() => this.deps.store.reclaimSpace(RECLAIM_PAGES));
        if (freePages === 0) break;
      }
    }
    return { messages: outgoing.removed, received: received.removed, batches: outgoing.batches + received.batches, freePages };
  }

  /** Batches until one removes less than a full batch (or the workspace closes). */
  private async inBatches(prune: (limit: number) => Promise<number>): Promise<{ removed: number; batches: number }> {
    let removed = 0;
    let batches = 0;
    while (!this.closed) {
      const count = await this.paced(() => prune(this.batch));
      removed += count;
      if (count > 0) batches++;
      if (count < this.batch) break;
    }
    return { removed, batches };
  }

  /** Runs one step, then pauses in proportion to how long it took. */
  private async paced<T>(step: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await step();
    const tookMs = performance.now() - started;
    if (this.closed) return result;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      if (this.pauseFactor === 0) setImmediate(resolve);
      else setTimeout(resolve, Math.max(MIN_PAUSE_MS, tookMs * this.pauseFactor)).unref();
    });
    this.wake = undefined;
    return result;
  }

  /** Stops the rounds; a round running ends after its current batch (before the store closes). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    await this.running?.catch(() => undefined);
  }
}
