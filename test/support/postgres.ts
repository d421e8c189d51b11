import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PostgresStore, type PostgresOptions } from '../../shared/store/postgres';

/** The test server (scripts/test-deps.sh makes sure one answers there); WAHOOK_TEST_PG_URL points elsewhere. */
export const TEST_PG_URL = process.env.WAHOOK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A schema of the test database with a random name, for one test: its stores see no other run's rows,
 * and `drop` removes it with everything in it.
 */
export interface ThrowawaySchema {
  readonly name: string;
  /** Options for a store on this schema (add more with `extra`). */
  options(extra?: Partial<PostgresOptions>): PostgresOptions;
  /** A store on this schema, closed by `drop` if the test did not close it. */
  store(extra?: Partial<PostgresOptions>): PostgresStore;
  /** Runs SQL outside any store (to inspect rows, or to do what a server does to connections). */
  admin<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export function throwawaySchema(): ThrowawaySchema {
  const name = `wahook_test_${randomBytes(6).toString('hex')}`;
  const stores: PostgresStore[] = [];
  const options = (extra: Partial<PostgresOptions> = {}): PostgresOptions => ({ connection: TEST_PG_URL, schema: name, poolSize: 4, ...extra });
  const admin = async <R>(text: string, values?: readonly unknown[]): Promise<R[]> => {
    const client = new Client({ connectionString: TEST_PG_URL });
    await client.connect();
    try {
      return (await client.query(text, values as unknown[] | undefined)).rows as R[];
    } finally {
      await client.end();
    }
  };
  return {
    name,
    options,
    store: (extra) => {
      const store = new PostgresStore(options(extra));
      stores.push(store);
      return store;
    },
    admin,
    drop: async () => {
      await Promise.allSettled(stores.map((store) => store.close()));
      await admin(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    },
  };
}
