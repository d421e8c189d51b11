import type { INode } from 'n8n-workflow';

/**
 * Executions the dedicated port keeps running at once when it emits each message. n8n's own webhook is
 * held to one execution per open connection by its clients; this plays that part for a port that
 * answers before the execution starts. Measured with `npm run bench -- n8n`: 4, 8 and 16 gave the same
 * throughput within the machine's noise; each running execution holds a V8 isolate under n8n's default
 * expression engine, so fewer is lighter on memory.
 */
export const CONCURRENT_EXECUTIONS = 8;

/** Messages in one execution when the port emits in batches (the rest go in the next window). */
export const BATCH_LIMIT = 1000;

/** How long a slot is held for an execution whose end n8n never reports (so emission cannot jam). */
const SLOT_TIMEOUT_MS = 5 * 60_000;

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

/** Settles when the execution ends, or after SLOT_TIMEOUT_MS if n8n never says. */
export function executionEnd(done: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SLOT_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([done.then(() => undefined, () => undefined), timeout]).finally(() => clearTimeout(timer));
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
