import type { FedRequest, FeedRepository } from '../store/types';

/** An entry of a feed: the positions of its first and last row (a reader resumes after `to`). */
export interface Positioned {
  readonly from: number;
  readonly to: number;
}

/**
 * What a reader reads from: entries after a position, the newest position, and durable reader cursors.
 * The webhook's feed of accepted requests is one (FeedRepository); received messages are another.
 */
export type FeedSource<R extends Positioned> = Pick<FeedRepository, 'head' | 'cursor' | 'saveCursor'> & {
  after(position: number, limit: number): Promise<{ readonly requests: R[]; readonly position: number }>;
};

/** How often a reader looks for requests no event told it about (another process, a missed wake-up). */
const POLL_MS = 5_000;
/** How long a reader's position may wait before it is written (it is also written when the reader stops). */
const SAVE_DELAY_MS = 1_000;
/** After the store failed a read, try again in this long. */
const RETRY_MS = 2_000;
/** How long stop() waits for running deliveries to end before it writes where the reader got to. */
const STOP_GRACE_MS = 5_000;

export interface FeedReaderOptions<T, R extends Positioned = FedRequest> {
  /** Durable name of this reader (an engine's node): where it got to is kept in the store under it. */
  readonly reader: string;
  /** Which stored requests this reader hands over (default: all); the rest are passed over. */
  readonly accepts?: (request: R) => boolean;
  /** Turns a stored request into what the flow receives. */
  readonly toItem: (request: R) => T;
  /**
   * Hands items to the flow (`after`: the position just before them, for pause()). A plain return counts
   * them as emitted at once. A returned promise (an n8n execution that must run to its end) holds one of
   * `concurrency` slots and keeps the durable position before them until it settles: an engine that dies
   * meanwhile does not run them again (n8n marks them crashed), so the next start hands them over again.
   */
  readonly deliver: (items: T[], after: number) => unknown;
  /** Requests handed over per delivery (1: one execution each). Default 64. */
  readonly perDelivery?: number;
  /** Deliveries whose promise is still pending, at most. Default 1. */
  readonly concurrency?: number;
  /** At least this long from one delivery to the next (batch windows). Default 0. */
  readonly intervalMs?: number;
}

export interface FeedReaderDeps<R extends Positioned = FedRequest> {
  readonly feed: FeedSource<R>;
  readonly now: () => number;
  readonly onError: (error: unknown) => void;
  /** Calls `wake` whenever something may have been accepted; returns the function that stops it. */
  readonly subscribe: (wake: () => void) => () => void;
}

/**
 * Emits what the webhook accepted from the durable record, at least once: it starts where this reader
 * stopped last time (a redeploy, a restart, a crash) and moves its position forward only past items
 * already handed over. A reader seen for the first time starts at the newest message.
 */
export class FeedReader<T, R extends Positioned = FedRequest> {
  private position = 0;
  private saved = 0;
  /** Deliveries whose promise has not settled yet, with the position before each. */
  private readonly running = new Map<number, number>();
  private nextDelivery = 0;
  private allSettled: (() => void) | undefined;
  private lastDeliveryAt = Number.NEGATIVE_INFINITY;
  private pumping = false;
  private again = false;
  private wakeQueued = false;
  private stopped = false;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly perDelivery: number;
  private readonly concurrency: number;
  private readonly intervalMs: number;

  constructor(
    private readonly options: FeedReaderOptions<T, R>,
    private readonly deps: FeedReaderDeps<R>,
  ) {
    this.perDelivery = Math.max(1, options.perDelivery ?? 64);
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.intervalMs = options.intervalMs ?? 0;
  }

  async start(): Promise<void> {
    const { feed } = this.deps;
    const stored = await feed.cursor(this.options.reader);
    this.position = stored ?? (await feed.head());
    if (stored === undefined) await feed.saveCursor(this.options.reader, this.position, this.deps.now());
    this.saved = this.position;
    if (this.stopped) return;
    this.unsubscribe = this.deps.subscribe(() => this.wake());
    this.poll = setInterval(() => this.wake(), POLL_MS);
    this.poll.unref();
    this.wake();
  }

  /**
   * Stops handing over items, gives running deliveries a few seconds to end, and writes where it got to:
   * what was not handed over, or did not end, is handed over at the next start.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.poll);
    clearTimeout(this.timer);
    clearTimeout(this.saveTimer);
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.allSettled = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS))),
      ]);
      clearTimeout(timer);
    }
    await this.save();
  }

  /**
   * Hands nothing over until resume(): the flow that receives the items is being stopped (an engine's
   * deploy), and what it was handed meanwhile could be dropped. What was accepted waits in the store.
   */
  pause(rewindTo?: number): void {
    this.paused = true;
    // Items handed over after this position may not have reached the flow: hand them over again.
    if (rewindTo !== undefined && rewindTo < this.position) this.position = rewindTo;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  /** Something may have been accepted: read soon (many wake-ups in one turn make one read). */
  wake(): void {
    if (this.stopped || this.paused || this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && !this.paused && this.running.size < this.concurrency) {
          const wait = this.lastDeliveryAt + this.intervalMs - Date.now();
          if (wait > 0) {
            this.wakeIn(wait);
            break;
          }
          const read = await this.deps.feed.after(this.position, this.perDelivery);
          if (this.stopped || this.paused) break;
          let requests = this.options.accepts ? read.requests.filter(this.options.accepts) : read.requests;
          let position = read.position;
          if (requests.length > this.perDelivery) {
            // The rest are read again next time round.
            requests = requests.slice(0, this.perDelivery);
            position = requests.at(-1)!.to;
          }
          const moved = position !== this.position;
          this.position = position;
          if (requests.length > 0) this.deliver(requests);
          else if (!moved) break;
        }
      } while (this.again && !this.stopped);
    } catch (error) {
      this.deps.onError(error);
      this.wakeIn(RETRY_MS);
    } finally {
      this.pumping = false;
      this.scheduleSave();
    }
  }

  private deliver(requests: R[]): void {
    this.lastDeliveryAt = Date.now();
    const id = this.nextDelivery++;
    const settled = () => {
      this.running.delete(id);
      if (this.running.size === 0) this.allSettled?.();
      this.scheduleSave();
      this.wake();
    };
    let result: unknown;
    try {
      result = this.options.deliver(
        requests.map((request) => this.options.toItem(request)),
        requests[0]!.from - 1,
      );
    } catch (error) {
      // A flow that throws has been handed the items all the same: a retry would only throw again.
      this.deps.onError(error);
    }
    if (result instanceof Promise) {
      this.running.set(id, requests[0]!.from - 1);
      result.then(settled, settled);
    }
  }

  /** Every request at or before this position has been handed over (and, if it ran, has ended). */
  private committed(): number {
    let position = this.position;
    for (const before of this.running.values()) position = Math.min(position, before);
    return position;
  }

  private scheduleSave(): void {
    if (this.stopped || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save().catch((error: unknown) => this.deps.onError(error));
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  private async save(): Promise<void> {
    const position = this.committed();
    if (position === this.saved) return;
    await this.deps.feed.saveCursor(this.options.reader, position, this.deps.now());
    this.saved = position;
  }

  private wakeIn(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => this.wake(), ms);
    this.timer.unref();
  }
}

/** A flow's hold on a feed it follows (see FeedReader). */
export interface FeedFollower {
  /** See FeedReader.pause: `rewindTo` hands over again what came after it. */
  pause(rewindTo?: number): void;
  resume(): void;
  stop(): Promise<void>;
}

/** Starts `reader`, kept in `readers` (which a closing workspace stops) until its follower stops it. */
export async function startFollower<T, R extends Positioned>(reader: FeedReader<T, R>, readers: Set<FeedReader<T, R>>): Promise<FeedFollower> {
  readers.add(reader);
  await reader.start();
  return {
    pause: (rewindTo) => reader.pause(rewindTo),
    resume: () => reader.resume(),
    stop: async () => {
      readers.delete(reader);
      await reader.stop();
    },
  };
}
