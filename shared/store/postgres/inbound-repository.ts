import { type InboundRow, toInbound } from '../rows';
import type { InboundRecord, InboundRepository, StoredInbound } from '../types';
import type { PgDatabase } from './database';

/**
 * Received messages in PostgreSQL: a table read by seq, written by every process of the workspace.
 *
 * A reader resumes after the last seq it emitted, so no seq may become visible after a greater one: an
 * identity hands out its values before commit, and without care a record that took seq 10 and commits
 * late would land behind a reader already moved to 11 by another record. As with the outbox (ledger lock)
 * and the change feed (changes lock), every record takes the schema's inbound lock before it takes a seq
 * and holds it to its commit: records commit one after another, in seq order, and whatever a reader sees
 * of seq n, it sees every smaller seq that will ever exist. `after` and `head` therefore need no rule of
 * their own. Seqs skipped by a conflict are gaps, never late rows.
 */
export class PostgresInboundRepository implements InboundRepository {
  private readonly insertMany: string;
  private readonly selectAfter: string;
  private readonly selectHead: string;
  private readonly selectById: string;
  private readonly selectByAccountAndId: string;
  private readonly deleteBefore: string;
  private readonly countAll: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    // One statement, one round trip, its own transaction: the lock (a materialized CTE every inserted row is
    // joined with, so it is taken before the first seq) lasts until that statement's commit. Rows go in in
    // the order given (WITH ORDINALITY … ORDER BY), so seqs increase in that order; one already stored (by
    // an earlier record, or by another process at this instant) inserts nothing and returns no row.
    this.insertMany = `WITH held AS MATERIALIZED (SELECT pg_advisory_xact_lock($1::int, $2::int))
       INSERT INTO ${s}.inbound_messages (account_id, id, chat_jid, at, received_at, body, reference, via)
       SELECT m.account_id, m.id, m.chat_jid, m.at, $9::bigint, m.body, m.reference, m.via
       FROM held, unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $10::text[])
         WITH ORDINALITY AS m(account_id, id, chat_jid, at, body, reference, via, ord)
       ORDER BY m.ord
       ON CONFLICT (account_id, id) DO NOTHING
       RETURNING *`;
    this.selectAfter = `SELECT * FROM ${s}.inbound_messages WHERE seq > $1 ORDER BY seq LIMIT $2`;
    this.selectHead = `SELECT coalesce(max(seq), 0) AS head FROM ${s}.inbound_messages`;
    this.selectById = `SELECT * FROM ${s}.inbound_messages WHERE id = $1 ORDER BY seq LIMIT 1`;
    this.selectByAccountAndId = `SELECT * FROM ${s}.inbound_messages WHERE account_id = $1 AND id = $2`;
    // The batch as an array: the delete then looks each row up by seq, whatever the planner thinks of the table.
    this.deleteBefore = `DELETE FROM ${s}.inbound_messages
       WHERE seq = ANY (ARRAY(SELECT seq FROM ${s}.inbound_messages WHERE received_at < $1 ORDER BY received_at LIMIT $2))`;
    this.countAll = `SELECT count(*) AS n FROM ${s}.inbound_messages`;
  }

  async record(entries: readonly InboundRecord[], now: number): Promise<StoredInbound[]> {
    // A batch naming a message twice keeps its first occurrence (one INSERT may not insert a key twice).
    const byKey = new Map<string, InboundRecord>();
    for (const entry of entries) if (!byKey.has(`${entry.accountId}\n${entry.id}`)) byKey.set(`${entry.accountId}\n${entry.id}`, entry);
    const unique = [...byKey.values()];
    if (unique.length === 0) return [];
    const rows = await this.db.rows<InboundRow>(this.insertMany, [
      ...this.db.lockKeys('inbound'),
      unique.map((entry) => entry.accountId),
      unique.map((entry) => entry.id),
      unique.map((entry) => entry.chatJid),
      unique.map((entry) => entry.at),
      unique.map((entry) => entry.body),
      unique.map((entry) => entry.reference),
      now,
      unique.map((entry) => entry.via ?? null),
    ]);
    // RETURNING promises no order: seq order is the order given.
    return rows.sort((a, b) => a.seq - b.seq).map(toInbound);
  }

  async after(position: number, limit: number): Promise<StoredInbound[]> {
    return (await this.db.rows<InboundRow>(this.selectAfter, [position, limit])).map(toInbound);
  }

  async head(): Promise<number> {
    return (await this.db.rows<{ head: number }>(this.selectHead))[0]!.head;
  }

  async find(id: string, accountId?: string): Promise<StoredInbound | undefined> {
    const [row] = await (accountId === undefined
      ? this.db.rows<InboundRow>(this.selectById, [id])
      : this.db.rows<InboundRow>(this.selectByAccountAndId, [accountId, id]));
    return row && toInbound(row);
  }

  async prune(receivedBefore: number, limit: number): Promise<number> {
    return this.db.run(this.deleteBefore, [receivedBefore, limit]);
  }

  async count(): Promise<number> {
    return (await this.db.rows<{ n: number }>(this.countAll))[0]!.n;
  }
}
