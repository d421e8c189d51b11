import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { MessagePart } from '../../model';
import type { FedRequest, FeedRepository } from '../types';

interface FeedRow {
  seq: number;
  id: string;
  request_id: string;
  account_id: string;
  part: string;
  text: string | null;
  feed: string | null;
  created_at: number;
}

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

/**
 * Rows in seq order → the feed's requests. A request's parts are consecutive rows with its id, the first
 * carrying the feed JSON; rows of requests the feed does not carry (a flow's sends) are passed over.
 */
export function groupRequests(rows: readonly FeedRow[], start: number): { requests: FedRequest[]; position: number } {
  const requests: (FedRequest & { expected: number })[] = [];
  for (const row of rows) {
    const current = requests.at(-1);
    if (row.feed !== null) {
      const rest = JSON.parse(row.feed) as { file?: unknown; via?: string };
      requests.push({
        from: row.seq,
        to: row.seq,
        requestId: row.request_id,
        accountId: row.account_id,
        parts: [{ id: row.id, part: row.part as MessagePart }],
        text: row.part === 'text' ? (row.text ?? '') : '',
        request: row.feed,
        ...(rest.via === undefined ? {} : { via: rest.via }),
        acceptedAt: row.created_at,
        expected: (row.part === 'text' ? 1 : 0) + (rest.file === undefined ? 0 : 1),
      });
    } else if (current && current.requestId === row.request_id && current.to === row.seq - 1) {
      requests[requests.length - 1] = { ...current, to: row.seq, parts: [...current.parts, { id: row.id, part: row.part as MessagePart }] };
    }
  }
  let position = rows.at(-1)?.seq ?? start;
  const last = requests.at(-1);
  // The read stopped between a request's parts: hand the request over whole on the next read.
  if (last && last.parts.length < last.expected) {
    requests.pop();
    position = last.from - 1;
  }
  return { requests: requests.map(({ expected: _expected, ...request }) => request), position };
}
