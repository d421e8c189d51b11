import type { StatusUpdate } from '../transport/types';
import type { ReceiptOutcome } from './receipts';

/** When a receipt for an id no message has yet is tried again: about half a minute in all. */
export const LATE_RECEIPT_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000] as const;
/** Receipts waiting at most; past this the oldest are dropped (a flood of receipts for others' sends). */
const MAX_WAITING = 10_000;

/**
 * Receipts that arrived before the send they confirm was recorded: a provider that assigns its own id
 * (the Cloud API's wamid) may post `delivered` before the process that sent has written that id. Each
 * is tried again a few times, then dropped: it may belong to a message another system sent from the
 * same number.
 */
export class LateReceipts {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly apply: (update: StatusUpdate) => Promise<ReceiptOutcome>,
    private readonly reportError: (error: unknown) => void,
    private readonly delays: readonly number[] = LATE_RECEIPT_DELAYS_MS,
  ) {}

  /** Applies the receipt now, or later if its message is not known yet. */
  async take(update: StatusUpdate): Promise<ReceiptOutcome> {
    const outcome = await this.apply(update);
    if (outcome === 'unknown') this.later(update, 0);
    return outcome;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private later(update: StatusUpdate, attempt: number): void {
    const delay = this.delays[attempt];
    if (delay === undefined || this.closed || this.timers.size >= MAX_WAITING) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      this.apply(update).then(
        (outcome) => outcome === 'unknown' && this.later(update, attempt + 1),
        (error: unknown) => {
          this.reportError(error);
          this.later(update, attempt + 1);
        },
      );
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }
}
