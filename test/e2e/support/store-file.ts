import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** The SQLite file a workspace config node with this store name uses under Node-RED's user dir. */
export function storeFileOf(userDir: string, storeName: string): string {
  return join(userDir, 'whatsapp', `${storeName}.sqlite`);
}

/**
 * Runs `read` on a read-only connection to a store file another process (Node-RED) may be writing
 * (WAL: a reader sees the last committed state and never blocks the writer), then closes it.
 */
export function readStoreFile<T>(path: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** What became of the store's messages, read in one snapshot (one read transaction). */
export interface MessagesSnapshot {
  /** Internal message ids the dry-run accounts recorded as sent (dry_run_sent). */
  readonly dryRunSent: ReadonlySet<string>;
  /** Internal ids still waiting: queued or sending in the outbox, or accepted into the intake journal and not yet drained. */
  readonly pending: ReadonlySet<string>;
  /** Each outbox message's status, by internal id. */
  readonly statuses: ReadonlyMap<string, string>;
}

/**
 * Reads dry_run_sent, the outbox and the intake in one read transaction, so a message that moves from
 * queued to sent between two reads is not missed by both.
 */
export function messagesSnapshot(path: string): MessagesSnapshot {
  return readStoreFile(path, (db) => {
    db.exec('BEGIN');
    try {
      const dryRunSent = new Set((db.prepare('SELECT id FROM dry_run_sent').all() as { id: string }[]).map((row) => row.id));
      const statuses = new Map((db.prepare('SELECT id, status FROM messages').all() as { id: string; status: string }[]).map((row) => [row.id, row.status]));
      const pending = new Set([...statuses].filter(([, status]) => status === 'queued' || status === 'sending').map(([id]) => id));
      const hasIntake = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'intake'").get() !== undefined;
      for (const row of (hasIntake ? db.prepare('SELECT payload FROM intake').all() : []) as { payload: string }[]) {
        const entry = JSON.parse(row.payload) as { messages?: { id?: string }[] };
        for (const message of entry.messages ?? []) if (typeof message.id === 'string') pending.add(message.id);
      }
      return { dryRunSent, pending, statuses };
    } finally {
      db.exec('COMMIT');
    }
  });
}
