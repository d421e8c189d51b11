import { workspaces as defaultRegistry, type WorkspaceLease, type WorkspaceRegistry } from './registry';
import type { Workspace, WorkspaceOptions } from '../workspace/workspace';

interface Held {
  readonly lease: Promise<WorkspaceLease>;
  active: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Leases for engines whose code runs per call (n8n's webhook() and execute()) rather than per deployed
 * node: a call borrows the store's workspace and the lease lingers `lingerMs` after the last call, so a
 * burst of calls opens the workspace (and its sockets) once, and an idle one is closed. Long-lived users
 * (an active trigger) hold their own lease from the registry, which keeps the workspace open meanwhile.
 */
export class LingeringLeases {
  private readonly held = new Map<string, Held>();

  constructor(
    private lingerMs: number,
    private readonly registry: WorkspaceRegistry = defaultRegistry,
  ) {}

  /** Runs `use` with the workspace of store `key`, opening it if no one holds it. */
  async use<T>(key: string, options: () => WorkspaceOptions, use: (workspace: Workspace) => Promise<T>): Promise<T> {
    let held = this.held.get(key);
    if (!held) {
      const lease = this.registry.acquire(key, options);
      const entry: Held = { lease, active: 0, timer: null };
      held = entry;
      this.held.set(key, entry);
      lease.catch(() => {
        if (this.held.get(key) === entry) this.held.delete(key);
      });
    }
    const entry = held;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.active++;
    try {
      return await use((await entry.lease).workspace);
    } finally {
      if (--entry.active === 0 && this.held.get(key) === entry) {
        entry.timer = setTimeout(() => void this.drop(key, entry), this.lingerMs);
        entry.timer.unref();
      }
    }
  }

  /**
   * The process is shutting down: what lingers is released now, and from now on a lease goes as soon as
   * its last call ends. The last holder's release closes the workspace (its connections first, then what
   * they received is stored), instead of the process exiting with it open.
   */
  async closing(): Promise<void> {
    this.lingerMs = 0;
    await this.releaseAll();
  }

  /** Releases every lingering lease now (process shutdown, tests). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.entries()].map(([key, entry]) => this.drop(key, entry)));
  }

  private async drop(key: string, entry: Held): Promise<void> {
    if (this.held.get(key) !== entry || entry.active > 0) return;
    if (entry.timer) clearTimeout(entry.timer);
    this.held.delete(key);
    await (await entry.lease.catch(() => null))?.release();
  }
}
