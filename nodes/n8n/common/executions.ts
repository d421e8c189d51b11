/**
 * Executions a trigger keeps running at once when it emits each item from the workspace's store (the
 * Dedicated Port's accepted messages, the WhatsApp Trigger's received messages). n8n's own webhook is
 * held to one execution per open connection by its clients; this plays that part for a port that
 * answers before the execution starts. Measured with `npm run bench -- n8n`: 4, 8 and 16 gave the same
 * throughput within the machine's noise; each running execution holds a V8 isolate under n8n's default
 * expression engine, so fewer is lighter on memory.
 */
export const CONCURRENT_EXECUTIONS = 8;

/** How long a slot is held for an execution whose end n8n never reports (so emission cannot jam). */
const SLOT_TIMEOUT_MS = 5 * 60_000;

/** Settles when the execution ends, or after SLOT_TIMEOUT_MS if n8n never says. */
export function executionEnd(done: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SLOT_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([done.then(() => undefined, () => undefined), timeout]).finally(() => clearTimeout(timer));
}
