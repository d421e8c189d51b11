/** How an engine's node follows the workspace's feed of accepted requests (see Workspace.followAccepted). */
export interface FeedFollowing {
  /** The durable name its position is kept under. */
  readonly reader: string;
  /** Only what calls tagged with this took (WebhookCall.via); absent: everything the workspace accepted. */
  readonly via?: string;
}

/**
 * Which accepted requests a webhook node emits. `processTag` names the engine process (stable across its
 * restarts: Node-RED's instance id) and tags every call its webhook takes; `reader` is the node's own name.
 *
 * On a store one process owns (SQLite) a node emits everything the workspace accepted, under its own name,
 * as it always has. On a store several processes share (PostgreSQL) each process runs the same flow: were
 * each node to follow everything, every message would be emitted once per process, and the nodes (same
 * flow, same id) would keep one position between them, so a restarted process could resume past what it
 * had not emitted. There each node emits what its own process took, from a position of its own process.
 */
export function feedFollowing(shared: boolean, processTag: string, reader: string): FeedFollowing {
  return shared ? { reader: `${reader}@${processTag}`, via: processTag } : { reader };
}
