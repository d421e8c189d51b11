import type { Node, NodeStatus } from 'node-red';
import type { AccountConnection, Workspace } from '../../shared';

const REFRESH_MS = 1000;

/** The node status for a workspace: its accounts' connection and how many messages wait. */
export function workspaceStatus(connections: readonly AccountConnection[], queued: number): NodeStatus {
  const queue = queued > 0 ? ` · ${queued} queued` : '';
  if (connections.length === 0) return { fill: 'grey', shape: 'ring', text: `no account linked${queue}` };
  const states = connections.map((connection) => connection.state ?? 'idle');
  if (states.every((state) => state === 'open')) {
    return { fill: 'green', shape: 'dot', text: `${connections.length === 1 ? 'connected' : `${connections.length} accounts connected`}${queue}` };
  }
  const trouble = connections.find((connection) => ['logged_out', 'replaced', 'paused'].includes(connection.state ?? ''));
  if (trouble) return { fill: 'red', shape: 'ring', text: `${trouble.account.phone ? `+${trouble.account.phone}` : 'account'} ${trouble.state!.replace('_', ' ')}${queue}` };
  return { fill: 'yellow', shape: 'ring', text: `${states.find((state) => state !== 'open')}${queue}` };
}

/**
 * Keeps `node`'s status in step with the workspace (connection changes and queue depth), at most once a
 * second. Returns the function that stops watching.
 */
export function watchWorkspaceStatus(node: Node, workspace: Workspace): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const refresh = async () => {
    timer = undefined;
    if (stopped) return;
    const waiting = await workspace.waitingCount();
    if (!stopped) node.status(workspaceStatus(workspace.connections(), waiting));
  };
  const schedule = () => {
    timer ??= setTimeout(() => void refresh().catch(() => undefined), REFRESH_MS);
  };
  const unsubscribe = [workspace.onAccountChange(schedule), workspace.onMessageChange(schedule)];
  void refresh().catch(() => undefined);
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const off of unsubscribe) off();
  };
}
