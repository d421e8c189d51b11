import type { INode } from 'n8n-workflow';

/** Messages in one execution when the port emits in batches (the rest go in the next window). */
export const BATCH_LIMIT = 1000;

/** The trigger's name in the workspace's feed: its cursor, and the entry point its calls are tagged with. */
export function feedKey(workflowId: string | undefined, node: Pick<INode, 'id' | 'name'>): string {
  return `n8n:${workflowId ?? ''}:${node.id || node.name}`;
}

/**
 * The address the port listens on: the node's setting, else n8n's own (N8N_LISTEN_ADDRESS), else every
 * interface, as n8n itself does.
 */
export function dedicatedHost(setting: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const host = setting.trim() || env.N8N_LISTEN_ADDRESS?.trim();
  return host ? host : undefined;
}

/**
 * Whether the active trigger emits the accepted messages from the workspace's durable feed rather than each
 * webhook call its own: with a Dedicated Port (the port answers outside n8n), and for batches in n8n queue
 * mode, where webhook calls run on webhook processes and only the main's trigger can gather them.
 */
export function emitsFromFeed(options: { readonly queueForSending: boolean; readonly emission: string; readonly dedicatedPort: number; readonly n8nQueueMode: boolean }): boolean {
  if (!options.queueForSending || options.emission === 'none') return false;
  return options.dedicatedPort > 0 || (options.n8nQueueMode && options.emission === 'batch');
}
