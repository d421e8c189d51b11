import { Workspace, type WorkspaceOptions } from '../workspace/workspace';

/** A use of a shared workspace; release it when the node or credential that needed it goes away. */
export interface WorkspaceLease {
  readonly workspace: Workspace;
  /** `linger: false` closes an unused workspace at once even if the hold asked it to linger. */
  release(options?: { readonly linger?: boolean }): Promise<void>;
}

/** How a user holds a workspace beyond its own use of it. */
export interface HoldOptions {
  /**
   * The settings the workspace is opened with, as a string: a later acquire with other settings closes
   * the idle workspace and opens it anew, so a changed setting takes effect.
   */
  readonly fingerprint?: string;
  /**
   * Keep the workspace open this long after its last user released it, so a redeploy (every node
   * stopped, then started again) finds it open: no socket is reconnected and the webhook keeps answering.
   */
  readonly lingerMs?: number;
}

interface Entry {
  readonly opening: Promise<Workspace>;
  readonly fingerprint: string | undefined;
  users: number;
  linger: NodeJS.Timeout | undefined;
}

/**
 * One workspace per store per process, shared by every node that names the same store: a linked
 * account must have exactly one socket, or WhatsApp makes the two kick each other off. The workspace is
 * closed when its last user releases it (after `lingerMs`), and a new one for the same store is opened
 * only once the old one has closed.
 */
export class WorkspaceRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly closing = new Map<string, Promise<void>>();

  async acquire(key: string, options: () => WorkspaceOptions, hold: HoldOptions = {}): Promise<WorkspaceLease> {
    let entry = this.entries.get(key);
    if (entry && entry.users === 0 && hold.fingerprint !== undefined && entry.fingerprint !== hold.fingerprint) {
      void this.closeNow(key, entry);
      entry = undefined;
    }
    if (!entry) {
      const previous = this.closing.get(key);
      const created: Entry = {
        // Never two workspaces on one store at once: wait until the previous one has closed.
        opening: (previous ?? Promise.resolve()).then(() => Workspace.open(options())),
        fingerprint: hold.fingerprint,
        users: 0,
        linger: undefined,
      };
      entry = created;
      this.entries.set(key, created);
      created.opening.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    clearTimeout(entry.linger);
    entry.linger = undefined;
    entry.users++;
    const current = entry;
    const workspace = await current.opening.catch((error: unknown) => {
      current.users--;
      throw error;
    });
    let released = false;
    return {
      workspace,
      release: async (options) => {
        if (released) return;
        released = true;
        if (--current.users > 0) return;
        if (!hold.lingerMs || options?.linger === false) return this.closeNow(key, current);
        current.linger = setTimeout(() => void this.closeNow(key, current), hold.lingerMs);
        current.linger.unref();
      },
    };
  }

  /** Closes every workspace that no one uses any more, lingering or not (a deploy has settled). */
  async closeIdle(): Promise<void> {
    await Promise.all([...this.entries].filter(([, entry]) => entry.users === 0).map(([key, entry]) => this.closeNow(key, entry)));
  }

  /** Resolves once every workspace being closed now has closed (a test that drops the store waits for it). */
  async closingDone(): Promise<void> {
    await Promise.all(this.closing.values());
  }

  /** Keys of the workspaces open now (for diagnostics and tests). */
  openKeys(): string[] {
    return [...this.entries.keys()];
  }

  private async closeNow(key: string, entry: Entry): Promise<void> {
    if (this.entries.get(key) !== entry || entry.users > 0) return;
    clearTimeout(entry.linger);
    this.entries.delete(key);
    const closed = entry.opening.then(
      (workspace) => workspace.close(),
      () => undefined,
    );
    const tracked = closed.finally(() => {
      if (this.closing.get(key) === tracked) this.closing.delete(key);
    });
    this.closing.set(key, tracked);
    await tracked;
  }
}

/** The registry every engine adapter in this process shares. */
export const workspaces = new WorkspaceRegistry();
