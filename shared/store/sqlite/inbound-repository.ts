import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { type InboundRow, toInbound } from '../rows';
import type { InboundRecord, InboundRepository, StoredInbound } from '../types';
import { inTransaction } from './database';

/**
 * Received messages in the embedded store: a table read by seq (AUTOINCREMENT, so a seq is never handed
 * out twice, even once pruning has deleted the newest row). Each record is one IMMEDIATE transaction,
 * holding the file's write lock from its first insert to its commit, whichever process writes: seqs are
 * committed in the order they are handed out, so a reader never passes one that commits later.
 * No `settle`: the intake journal holds accepted outgoing messages only, nothing this table is read with.
 */
export class SqliteInboundRepository implements InboundRepository {
  private readonly insert: StatementSync;
  private readonly selectAfter: StatementSync;
  private readonly selectHead: StatementSync;
  private readonly selectById: StatementSync;
  private readonly selectByAccountAndId: StatementSync;
  private readonly deleteBefore: StatementSync;
  private readonly countAll: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    // A message already stored (an earlier call, or earlier in the same batch) inserts nothing and returns no row.
    this.insert = db.prepare(
      `INSERT INTO inbound_messages (account_id, id, chat_jid, at, received_at, body, reference, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, id) DO NOTHING
       RETURNING *`,
    );
    this.selectAfter = db.prepare('SELECT * FROM inbound_messages WHERE seq > ? ORDER BY seq LIMIT ?');
    this.selectHead = db.prepare('SELECT coalesce(max(seq), 0) AS head FROM inbound_messages');
    this.selectById = db.prepare('SELECT * FROM inbound_messages WHERE id = ? ORDER BY seq LIMIT 1');
    this.selectByAccountAndId = db.prepare('SELECT * FROM inbound_messages WHERE account_id = ? AND id = ?');
    this.deleteBefore = db.prepare(
      'DELETE FROM inbound_messages WHERE seq IN (SELECT seq FROM inbound_messages WHERE received_at < ? ORDER BY received_at LIMIT ?)',
    );
    this.countAll = db.prepare('SELECT count(*) AS n FROM inbound_messages');
  }

  async record(entries: readonly InboundRecord[], now: number): Promise<StoredInbound[]> {
    if (entries.length === 0) return [];
    return inTransaction(this.db, () => {
      const stored: StoredInbound[] = [];
      for (const entry of entries) {
        const row = this.insert.get(entry.accountId, entry.id, entry.chatJid, entry.at, now, entry.body, entry.reference, entry.via ?? null) as InboundRow | undefined;
        if (row) stored.push(toInbound(row));
      }
      return stored;
    });
  }

  async after(position: number, limit: number): Promise<StoredInbound[]> {
    return (this.selectAfter.all(position, limit) as unknown as InboundRow[]).map(toInbound);
  }

  async head(): Promise<number> {
    return (this.selectHead.get() as { head: number }).head;
  }

  async find(id: string, accountId?: string): Promise<StoredInbound | undefined> {
    const row = (accountId === undefined ? this.selectById.get(id) : this.selectByAccountAndId.get(accountId, id)) as InboundRow | undefined;
    return row && toInbound(row);
  }

  async prune(receivedBefore: number, limit: number): Promise<number> {
    return Number(this.deleteBefore.run(receivedBefore, limit).changes);
  }

  async count(): Promise<number> {
    return (this.countAll.get() as { n: number }).n;
  }
}
