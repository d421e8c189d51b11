import { CHANGES_KEPT, type ChangeRepository, type StoreChange } from '../types';
import type { PgDatabase } from './database';
import { ChannelListener } from './listener';

/** The NOTIFY channel on which a schema's change feed announces its new head. */
export function changesChannel(schemaName: string): string {
  return `${schemaName}_changes`;
}

/**
 * The change feed in PostgreSQL: a table read by seq, trimmed to the newest CHANGES_KEPT rows. Each
 * append NOTIFYs the new head on the schema's channel, only the cursor (payloads are capped at 8,000 bytes
 * and lost by a listener that is disconnected): a listener reads the rows from its own cursor.
 */
export class PostgresChangeRepository implements ChangeRepository {
  readonly channel: string;
  private readonly insert: string;
  private readonly trim: string;
  private readonly notify: string;
  private readonly selectAfter: string;
  private readonly selectHead: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    this.channel = changesChannel(db.schema.name);
    this.insert = `INSERT INTO ${s}.changes (kind, payload)
       SELECT kind, payload FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(kind, payload, ord) ORDER BY ord
       RETURNING seq`;
    this.trim = `DELETE FROM ${s}.changes WHERE seq <= $1::bigint - ${CHANGES_KEPT}`;
    this.notify = 'SELECT pg_notify($1, $2)';
    this.selectAfter = `SELECT seq, payload FROM ${s}.changes WHERE seq > $1 ORDER BY seq LIMIT $2`;
    this.selectHead = `SELECT coalesce(max(seq), 0) AS head FROM ${s}.changes`;
  }

  async append(changes: readonly StoreChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.db.transaction(async (tx) => {
      // One appender at a time: seqs are then handed out in commit order, and a reader that has read up to
      // a seq never misses a smaller one committed after its read.
      await this.db.lock(tx, 'changes');
      const rows = await tx.rows<{ seq: number }>(this.insert, [changes.map((change) => change.kind), changes.map((change) => JSON.stringify(change))]);
      const head = Math.max(...rows.map((row) => row.seq));
      await tx.run(this.trim, [head]);
      // Delivered at COMMIT, and only if it commits.
      await tx.run(this.notify, [this.channel, String(head)]);
    });
  }

  async after(cursor: number, limit: number): Promise<{ changes: (StoreChange & { seq: number })[]; cursor: number }> {
    const rows = await this.db.rows<{ seq: number; payload: string }>(this.selectAfter, [cursor, limit]);
    return {
      changes: rows.map((row) => ({ ...(JSON.parse(row.payload) as StoreChange), seq: row.seq })),
      cursor: rows.length > 0 ? rows[rows.length - 1]!.seq : cursor,
    };
  }

  watch(announced: () => void, onError: (error: unknown) => void): () => Promise<void> {
    const listener = new ChannelListener(this.db.clientConfig, this.channel, announced, onError);
    return () => listener.close();
  }

  async head(): Promise<number> {
    return (await this.db.rows<{ head: number }>(this.selectHead))[0]!.head;
  }
}
