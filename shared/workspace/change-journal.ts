import type { ChangeRepository, StoreChange } from '../store/types';

/**
 * Writes the workspace's changes to the store's change feed, off the hot path: the changes of each
 * FLUSH_MS go in one commit, in the order they were made (a commit per change would double the cost
 * of every accepted request; a reader elsewhere is that much later at most). Listeners in this process hear each
 * change at once; the feed is for the processes that did not make it. A write the store refuses is
 * reported and dropped (the messages' own records stay right; only that notice is missing).
 */
export const FLUSH_MS = 20;

export class ChangeJournal {
  private pending: StoreChange[] = [];
  private flushing: NodeJS.Timeout | undefined;
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly changes: ChangeRepository,
    /** This workspace's owner id, written on each change so that its follower skips them. */
    private readonly origin: string,
    private readonly reportError: (error: unknown) => void,
  ) {}

  record(change: StoreChange): void {
    this.pending.push({ ...change, origin: this.origin });
    if (this.flushing) return;
    this.flushing = setTimeout(() => this.flush(), FLUSH_MS);
    // A pending notice never keeps a process alive; close() writes it.
    this.flushing.unref();
  }

  /** Writes what is pending and waits for every write so far (before the store closes). */
  async close(): Promise<void> {
    this.flush();
    await this.written;
  }

  private flush(): void {
    clearTimeout(this.flushing);
    this.flushing = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.written = this.written.then(() => this.changes.append(batch)).catch((error: unknown) => this.reportError(error));
  }
}
