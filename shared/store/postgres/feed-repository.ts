import { groupRequests, type FeedRow } from '../feed-requests';
import type { FedRequest, FeedRepository } from '../types';
import type { PgDatabase } from './database';

/**
 * The outbox as the webhook's feed (see FeedRepository): a range read by seq, the primary key. Seqs are
 * handed out under the ledger lock, in commit order, so a reader never passes a row committed later.
 */
export class PostgresFeedRepository implements FeedRepository {
  private readonly selectAfter: string;
  private readonly selectHead: string;
  private readonly selectCursor: string;
  private readonly upsertCursor: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    this.selectAfter = `SELECT seq, id, request_id, account_id, part, text, feed, created_at FROM ${s}.messages WHERE seq > $1 ORDER BY seq LIMIT $2`;
    this.selectHead = `SELECT coalesce(max(seq), 0) AS head FROM ${s}.messages`;
    this.selectCursor = `SELECT position FROM ${s}.feed_cursors WHERE reader = $1`;
    this.upsertCursor = `INSERT INTO ${s}.feed_cursors (reader, position, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (reader) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`;
  }

  async after(position: number, limit: number): Promise<{ requests: FedRequest[]; position: number }> {
    const rows = await this.db.rows<FeedRow>(this.selectAfter, [position, Math.max(2, limit)]);
    return groupRequests(rows, position);
  }

  async head(): Promise<number> {
    return (await this.db.rows<{ head: number }>(this.selectHead))[0]!.head;
  }

  async cursor(reader: string): Promise<number | undefined> {
    return (await this.db.rows<{ position: number }>(this.selectCursor, [reader]))[0]?.position;
  }

  async saveCursor(reader: string, position: number, now: number): Promise<void> {
    await this.db.run(this.upsertCursor, [reader, position, now]);
  }
}
