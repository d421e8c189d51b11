import type { Queryable } from './database';
import { MIGRATIONS } from './schema';
import type { SchemaName } from './schema-name';

/**
 * Creates the schema if missing and applies the migrations it has not had, inside the caller's
 * transaction and after `lock` (a transaction-scoped advisory lock): several processes opening the store
 * at once wait for the first, then find nothing left to do. A failure rolls every step back.
 */
export async function migrate(tx: Queryable, schema: SchemaName, lock: () => Promise<void>): Promise<void> {
  await lock();
  // Checked first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege on the database, which a
  // role given only an existing schema lacks.
  const [exists] = await tx.rows<{ found: number }>('SELECT 1 AS found FROM pg_namespace WHERE nspname = $1', [schema.name]);
  if (!exists) await tx.run(`CREATE SCHEMA ${schema.sql}`);
  await tx.run(`CREATE TABLE IF NOT EXISTS ${schema.sql}.schema_version (
    id integer PRIMARY KEY CHECK (id = 1),
    version integer NOT NULL
  )`);
  await tx.run(`INSERT INTO ${schema.sql}.schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`);
  const [{ version }] = (await tx.rows<{ version: number }>(`SELECT version FROM ${schema.sql}.schema_version WHERE id = 1`)) as [{ version: number }];
  const migrations = MIGRATIONS(schema.sql);
  if (version > migrations.length) {
    throw new Error(`The PostgreSQL schema "${schema.name}" is at version ${version}, newer than this package knows (${migrations.length}): upgrade the package.`);
  }
  for (let next = version; next < migrations.length; next++) await tx.run(migrations[next]!);
  if (version < migrations.length) await tx.run(`UPDATE ${schema.sql}.schema_version SET version = $1 WHERE id = 1`, [migrations.length]);
}
