import type { HoldOptions, WorkspaceLease, WorkspaceRegistry } from './registry';
import { describeStoreFault } from '../unavailable';
import type { Workspace, WorkspaceOptions } from '../workspace/workspace';

/** How long to wait before opening a workspace again after its store failed to open. */
export const REOPEN_DELAY_MS = 10_000;

export interface RetryingLeaseOptions extends HoldOptions {
  /** Runs once the workspace is open, before anyone is handed it (e.g. adding configured dry-run accounts). */
  readonly prepare?: (workspace: Workspace) => Promise<void>;
  /** Told why the workspace is not open (a sentence), and `undefined` once it is. */
  readonly onProblem?: (problem: string | undefined, error?: unknown) => void;
  readonly retryMs?: number;
}

/**
 * A long-lived user's hold on a workspace (a deployed config node): if the store cannot open (read-only
 * files, a full disk), it says why and tries again every few seconds, so fixing the store is enough — no
 * redeploy, no restart. `workspace` resolves once it is open.
 */
/**
 * A lease that arrives after its user let go (a node closed while its workspace was still opening):
 * nobody holds it, so it must not linger past a stop whose clean-up has already run.
 */
const LATE = { linger: false } as const;

export class RetryingLease {
  readonly workspace: Promise<Workspace>;
  private lease: WorkspaceLease | undefined;
  private current: string | undefined = 'The workspace is being opened.';
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly registry: WorkspaceRegistry,
    private readonly key: string,
    private readonly options: () => WorkspaceOptions,
    private readonly hold: RetryingLeaseOptions = {},
  ) {
    this.workspace = new Promise((resolve) => this.attempt(resolve));
  }

  /** Why the workspace is not open now; undefined once it is. */
  get problem(): string | undefined {
    return this.current;
  }

  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.timer);
    await this.lease?.release();
  }

  private attempt(resolve: (workspace: Workspace) => void): void {
    const { prepare, onProblem, retryMs = REOPEN_DELAY_MS, ...hold } = this.hold;
    this.registry
      .acquire(this.key, this.options, hold)
      .then(async (lease) => {
        if (this.released) return lease.release(LATE);
        try {
          await prepare?.(lease.workspace);
        } catch (error) {
          await lease.release();
          throw error;
        }
        if (this.released) return lease.release(LATE);
        this.lease = lease;
        this.current = undefined;
        onProblem?.(undefined);
        resolve(lease.workspace);
      })
      .catch((error: unknown) => {
        if (this.released) return;
        this.current = `${describeStoreFault(error)} It is retried every ${Math.round(retryMs / 1000)} s.`;
        onProblem?.(this.current, error);
        this.timer = setTimeout(() => this.attempt(resolve), retryMs);
        this.timer.unref();
      });
  }
}
