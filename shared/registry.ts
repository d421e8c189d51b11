import { Workspace, type WorkspaceOptions } from './workspace';

/** A use of a shared workspace; release it when the node or credential that needed it goes away. */
export interface WorkspaceLease {
  readonly workspace: Workspace;
  release(): Promise<void>;
}

interface Entry {
  readonly opening: Promise<Workspace>;
  users: number;
}

/**
 * One workspace per store per process, shared by every node that names the same store: a linked
 * account must have exactly one socket, or WhatsApp makes the two kick each other off. The workspace is
 * closed when its last user releases it.
 */
export class WorkspaceRegistry {
  private readonly entries = new Map<string, Entry>();

  async acquire(key: string, options: () => WorkspaceOptions): Promise<WorkspaceLease> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { opening: Workspace.open(options()), users: 0 };
      this.entries.set(key, entry);
      entry.opening.catch(() => this.entries.delete(key));
    }
    entry.users++;
    const current = entry;
    const workspace = await current.opening.catch((error: unknown) => {
      current.users--;
      throw error;
    });
    let released = false;
    return {
      workspace,
      release: async () => {
        if (released) return;
        released = true;
        if (--current.users > 0) return;
        if (this.entries.get(key) === current) this.entries.delete(key);
        await workspace.close();
      },
    };
  }

  /** Keys of the workspaces open now (for diagnostics and tests). */
  openKeys(): string[] {
    return [...this.entries.keys()];
  }
}

/** The registry every engine adapter in this process shares. */
export const workspaces = new WorkspaceRegistry();
