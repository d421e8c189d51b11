import type { ChangeRepository, StoreChange } from '../store/types';

/** A safety net under the store's notices: read the feed this often even if no notice came. */
const POLL_MS = 1_000;
const PAGE = 500;

/**
 * Reads the changes other processes append to a shared store (see ChangeRepository.watch), from this
 * workspace's cursor, and hands each one not made here to `apply`, in order. Starts at the head: what
 * happened before this workspace opened is in the store's own state, which it loads when it opens.
 */
export class ChangeFollower {
  private cursor = 0;
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  private readonly unwatch: () => Promise<void>;

  private constructor(
    private readonly changes: ChangeRepository & Required<Pick<ChangeRepository, 'watch'>>,
    private readonly origin: string,
    private readonly apply: (change: StoreChange) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    head: number,
  ) {
    this.cursor = head;
    this.unwatch = changes.watch(() => this.read(), onError);
    this.timer = setInterval(() => this.read(), POLL_MS);
    // Following never keeps a process alive: whoever hosts the workspace does.
    this.timer.unref();
  }

  /** Follows a store other processes write to; undefined for one only this process writes. */
  static async start(changes: ChangeRepository, origin: string, apply: (change: StoreChange) => Promise<void>, onError: (error: unknown) => void): Promise<ChangeFollower | undefined> {
    if (!changes.watch) return undefined;
    return new ChangeFollower(changes as ChangeRepository & Required<Pick<ChangeRepository, 'watch'>>, origin, apply, onError, await changes.head());
  }

  /** Reads from the cursor; a read asked for while one runs runs again after it, so no notice is lost. */
  read(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.drain()
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.reading = undefined;
        if (this.again) {
          this.again = false;
          this.read();
        }
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const page = await this.changes.after(this.cursor, PAGE);
      for (const change of page.changes) {
        if (this.stopped) return;
        if (change.origin !== this.origin) await this.apply(change);
        this.cursor = change.seq;
      }
      if (page.changes.length < PAGE) return;
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.unwatch();
    await this.reading;
  }
}
