import { PostgresStore, type PostgresOptions } from '../store/postgres';
import { SqliteStore } from '../store/sqlite';
import type { WorkspaceStore } from '../store/types';
import type { WorkspaceSettings } from './settings';
import { pgConnectionFor, type StoreChoice } from './store-choice';

/**
 * Constructs the store a choice names. SQLite opens or creates its file here; PostgreSQL connects nothing
 * yet (its first operation creates or migrates the schema, and Workspace.open waits for that).
 */
export function openStore(choice: StoreChoice): WorkspaceStore {
  switch (choice.kind) {
    case 'sqlite':
      return new SqliteStore({ path: choice.path });
    case 'postgres':
      return new PostgresStore(postgresOptionsFor(choice));
  }
}

/** The store a choice names, once it is ready to use: rejects (and closes it) when PostgreSQL cannot be reached or migrated. */
export async function openStoreReady(choice: StoreChoice): Promise<WorkspaceStore> {
  return choice.kind === 'postgres' ? PostgresStore.open(postgresOptionsFor(choice)) : openStore(choice);
}

function postgresOptionsFor(choice: Extract<StoreChoice, { kind: 'postgres' }>): PostgresOptions {
  return { connection: pgConnectionFor(choice), schema: choice.schema };
}

/** The store these settings name. */
export function openStoreFor(settings: WorkspaceSettings): WorkspaceStore {
  return openStore(settings.store);
}
