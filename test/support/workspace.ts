import { join } from 'node:path';
import { SqliteStore } from '../../shared/store/sqlite';
import { Workspace, type WorkspaceOptions } from '../../shared/workspace/workspace';
import { tempDir } from './temp';

export interface TestWorkspace {
  readonly workspace: Workspace;
  readonly storePath: string;
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** A workspace on a real SQLite file in a temp folder, with fast pacing unless told otherwise. */
export async function openTestWorkspace(options: Partial<WorkspaceOptions> = {}): Promise<TestWorkspace> {
  const dir = tempDir();
  const storePath = join(dir.path, 'workspace.sqlite');
  const errors: unknown[] = [];
  const workspace = await Workspace.open({
    store: new SqliteStore({ path: storePath }),
    pacing: { gap: { minMs: 1, maxMs: 3 } },
    onError: (error) => errors.push(error),
    ...options,
  });
  return {
    workspace,
    storePath,
    errors,
    close: async () => {
      await workspace.close();
      dir.cleanup();
    },
  };
}
