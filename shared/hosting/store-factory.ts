import { SqliteStore } from '../store/sqlite';
import type { WorkspaceStore } from '../store/types';
import type { WorkspaceSettings } from './settings';

/**
 * Which store holds a workspace. One kind today, the embedded SQLite file; a server store (PostgreSQL)
 * would be another member here and another case in openStoreFor, and nothing above this file changes.
 */
type StoreTarget = { readonly kind: 'sqlite'; readonly path: string };

function storeTargetFor(settings: WorkspaceSettings): StoreTarget {
  return { kind: 'sqlite', path: settings.storePath };
}

/** Constructs the store these settings name (for SQLite, this opens or creates its file). */
export function openStoreFor(settings: WorkspaceSettings): WorkspaceStore {
  const target = storeTargetFor(settings);
  switch (target.kind) {
    case 'sqlite':
      return new SqliteStore({ path: target.path });
  }
}
