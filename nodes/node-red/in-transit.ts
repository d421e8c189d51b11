import type { NodeAPI } from 'node-red';
import type { FeedFollower } from '../../shared';

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

/**
 * A deploy stops the nodes a feed-following node sends to: holds emission from the deploy's start until
 * every node runs again, and emits again what was still on its way to them (Node-RED drops it).
 * Returns the function that stops watching deploys.
 */
export function holdDuringDeploys(RED: NodeAPI, follower: FeedFollower, inTransit: InTransit): () => void {
  const pause = () => follower.pause(inTransit.oldest());
  const resume = () => follower.resume();
  RED.events.on('flows:stopping', pause);
  RED.events.on('flows:started', resume);
  return () => {
    RED.events.off('flows:stopping', pause);
    RED.events.off('flows:started', resume);
  };
}
