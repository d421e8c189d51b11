import type { IDataObject } from 'n8n-workflow';

/** Starts one workflow execution for an item; the promise settles when that execution has ended. */
export type StartExecution = (item: IDataObject) => Promise<unknown>;

/**
 * Executions the dedicated port keeps running at once when it emits each message. n8n's own webhook is
 * held to one execution per open connection by its clients; this plays that part for a port that
 * answers before the execution starts. Measured with `npm run bench -- n8n`: 4, 8 and 16 gave the same
 * throughput within the machine's noise; each running execution holds a V8 isolate under n8n's default
 * expression engine, so fewer is lighter on memory.
 */
export const CONCURRENT_EXECUTIONS = 8;

/** How long a slot is held for an execution whose end n8n never reports (so the gate cannot jam). */
const SLOT_TIMEOUT_MS = 5 * 60_000;

/**
 * Starts at most `limit` executions at once and holds the rest in arrival order. The dedicated port
 * answers thousands of calls a second; starting an execution for each at once would have n8n run them
 * all side by side (each with its own expression isolate), which costs more CPU per execution and
 * memory without bound. Held items are notifications only: the messages themselves are already in the
 * durable outbox and are sent whatever happens to their emission.
 */
export class ExecutionGate {
  private readonly held: IDataObject[] = [];
  private next = 0;
  private running = 0;
  private closed = false;

  constructor(
    private readonly limit: number,
    private readonly start: StartExecution,
  ) {}

  add(item: IDataObject): void {
    if (this.closed) return;
    this.held.push(item);
    this.pump();
  }

  /**
   * Starts nothing more: the workflow is being deactivated, and n8n must not run it afterwards. Returns
   * how many held items will never start (their messages stay queued and are sent all the same).
   */
  close(): number {
    this.closed = true;
    const dropped = this.held.length - this.next;
    this.held.length = 0;
    this.next = 0;
    return dropped;
  }

  /** Executions running plus items waiting for a slot. */
  get pending(): number {
    return this.running + this.held.length - this.next;
  }

  private pump(): void {
    while (!this.closed && this.running < this.limit && this.next < this.held.length) {
      const item = this.held[this.next++];
      this.running++;
      void this.run(item);
    }
    // Drop the consumed head now and then, so the array does not grow forever.
    if (this.next > 1024 && this.next * 2 > this.held.length) {
      this.held.splice(0, this.next);
      this.next = 0;
    }
  }

  private async run(item: IDataObject): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SLOT_TIMEOUT_MS);
      timer.unref();
    });
    try {
      await Promise.race([this.start(item).catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
      this.running--;
      this.pump();
    }
  }
}
