/**
 * Node-RED delivers a message to the next node, and that node's to the one after, each in a later
 * setImmediate turn; a deploy that stops the flow meanwhile drops what is still on its way. This keeps
 * the feed position of what was sent too recently to have reached `HOPS` nodes downstream.
 */
const HOPS = 2;

export class InTransit {
  private readonly pending = new Map<number, number>();
  private next = 0;

  /** Items after `after` were just sent. */
  sent(after: number): void {
    const id = this.next++;
    this.pending.set(id, after);
    land(HOPS, () => this.pending.delete(id));
  }

  /** The feed position before the oldest items that may still be on their way, if any. */
  oldest(): number | undefined {
    let oldest: number | undefined;
    for (const after of this.pending.values()) oldest = oldest === undefined ? after : Math.min(oldest, after);
    return oldest;
  }
}

function land(turns: number, done: () => void): void {
  setImmediate(() => (turns > 1 ? land(turns - 1, done) : done()));
}
