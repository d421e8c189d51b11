import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './schema';

/**
 * How much a commit survives. `process` (WAL with synchronous=NORMAL) survives a crash or kill of the
 * process, which is what "nothing lost after a restart" needs; `power` (synchronous=FULL) also survives
 * a power cut, at the price of one fsync per accepted request.
 */
export type Durability = 'process' | 'power';

export interface SqliteOptions {
  readonly path: string;
  readonly durability?: Durability;
}

export function openDatabase(options: SqliteOptions): DatabaseSync {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  try {
    configure(db, options);
    return db;
  } catch (error) {
    // A handle left open here would keep the file's descriptors (and a read-only view of it) in this
    // process, and every later open of the same file would inherit them and fail too.
    db.close();
    throw error;
  }
}

function configure(db: DatabaseSync, options: SqliteOptions): void {
  // A new file keeps the map that lets it give the pages retention frees back to the file system
  // (SqliteStore.reclaimSpace). It must be chosen before the first page is written, WAL's header included;
  // a file made before this is converted once, by reclaimSpace after a prune.
  if ((db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count === 0) db.exec('PRAGMA auto_vacuum = INCREMENTAL');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
  // Several processes (or a CLI next to a running engine) may open the same file.
  db.exec('PRAGMA busy_timeout = 5000');
  // Checkpoint every ~40 MB of WAL instead of every ~4 MB: a page rewritten by many commits is then copied
  // back once, which cut commit time by about a quarter in the accept-path profile.
  db.exec('PRAGMA wal_autocheckpoint = 10000');
  db.exec('PRAGMA foreign_keys = ON');
  migrate(db);
}

function migrate(db: DatabaseSync): void {
  const { user_version: current } = db.prepare('PRAGMA user_version').get() as { user_version: number };
  for (let version = current; version < MIGRATIONS.length; version++) {
    inTransaction(db, () => {
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    });
  }
}

/** Runs `work` in one IMMEDIATE transaction (the write lock is taken up front, so no deadlock later). */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
