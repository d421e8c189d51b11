import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { groupRequests, type FeedRow } from '../feed-requests';
import type { FedRequest, FeedRepository } from '../types';

/** The outbox as the webhook's feed (see FeedRepository): a range read by seq, the primary key. */
export class SqliteFeedRepository implements FeedRepository {
  private readonly selectAfter: StatementSync;
  private readonly selectHead: StatementSync;
  private readonly selectCursor: StatementSync;
  private readonly upsertCursor: StatementSync;

  /** `settle` drains the intake first, so the feed sees every accepted message. */
  constructor(
    db: DatabaseSync,
    private readonly settle: () => void,
  ) {
    this.selectAfter = db.prepare(
      'SELECT seq, id, request_id, account_id, part, text, feed, created_at FROM messages WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    this.selectHead = db.prepare('SELECT coalesce(max(seq), 0) AS head FROM messages');
    this.selectCursor = db.prepare('SELECT position FROM feed_cursors WHERE reader = ?');
    this.upsertCursor = db.prepare(
      `INSERT INTO feed_cursors (reader, position, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (reader) DO UPDATE SET position = ?2, updated_at = ?3`,
    );
  }

  async after(position: number, limit: number): Promise<{ requests: FedRequest[]; position: number }> {
    this.settle();
    const rows = this.selectAfter.all(position, Math.max(2, limit)) as unknown as FeedRow[];
    return groupRequests(rows, position);
  }

  async head(): Promise<number> {
    this.settle();
    return (this.selectHead.get() as { head: number }).head;
  }

  async cursor(reader: string): Promise<number | undefined> {
    return (this.selectCursor.get(reader) as { position: number } | undefined)?.position;
  }

  async saveCursor(reader: string, position: number, now: number): Promise<void> {
    this.upsertCursor.run(reader, position, now);
  }
}
