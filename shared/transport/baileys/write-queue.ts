/** Store writes run one at a time, in the order the events came; a failed one is reported and the next still runs. */
export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (error: unknown) => void) {}

  add(work: () => Promise<void>): void {
    this.tail = this.tail.then(work).catch((error: unknown) => this.onError(error));
  }

  /** Settles once every write queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
