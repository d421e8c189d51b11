import { join } from 'node:path';
import { SqliteStore } from '../../shared/store/sqlite';
import type { WorkspaceStore } from '../../shared/store/types';
import { throwawaySchema } from './postgres';
import { tempDir } from './temp';

/** Where one test's stores live: a temp folder's file, or a throwaway schema. */
export interface StorePlace {
  /** A store on this place; another one is what a restart, or a second process, opens. */
  open(): WorkspaceStore;
  /** Closes what the test left open and removes the place. */
  cleanup(): Promise<void>;
}

/** A store implementation the shared store tests run against. */
export interface StoreKind {
  readonly name: string;
  /**
   * Whether a hold taken through one store is seen by another store on the same place: PostgreSQL keeps
   * holds in a table; a SQLite file serves one process, which keeps them in memory.
   */
  readonly ownershipAcrossStores: boolean;
  place(): StorePlace;
}

export const SQLITE: StoreKind = {
  name: 'SQLite',
  ownershipAcrossStores: false,
  place: () => {
    const dir = tempDir();
    const stores: WorkspaceStore[] = [];
    return {
      open: () => {
        const store = new SqliteStore({ path: join(dir.path, 'workspace.sqlite') });
        stores.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.allSettled(stores.map((store) => store.close()));
        dir.cleanup();
      },
    };
  },
};

export const POSTGRES: StoreKind = {
  name: 'PostgreSQL',
  ownershipAcrossStores: true,
  place: () => {
    const schema = throwawaySchema();
    return { open: () => schema.store(), cleanup: () => schema.drop() };
  },
};

/** Both stores, for `describe.each(STORE_KINDS)('$name store', …)`. */
export const STORE_KINDS: readonly StoreKind[] = [SQLITE, POSTGRES];
