import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { CHANGES_KEPT, type ChangeRepository, type StoreChange } from '../types';
import { inTransaction } from './database';

export { CHANGES_KEPT } from '../types';

/** The change feed of the embedded store: a table read by seq, trimmed to the newest CHANGES_KEPT rows. */
export class SqliteChangeRepository implements ChangeRepository {
  private readonly insert: StatementSync;
  private readonly trim: StatementSync;
  private readonly selectAfter: StatementSync;
  private readonly selectHead: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    this.insert = db.prepare('INSERT INTO changes (kind, payload) VALUES (?, ?)');
    this.trim = db.prepare(`DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - ${CHANGES_KEPT}`);
    this.selectAfter = db.prepare('SELECT seq, payload FROM changes WHERE seq > ? ORDER BY seq LIMIT ?');
    this.selectHead = db.prepare('SELECT coalesce(max(seq), 0) AS head FROM changes');
  }

  async append(changes: readonly StoreChange[]): Promise<void> {
    if (changes.length === 0) return;
    inTransaction(this.db, () => {
      for (const change of changes) this.insert.run(change.kind, JSON.stringify(change));
      this.trim.run();
    });
  }

  async after(cursor: number, limit: number): Promise<{ changes: (StoreChange & { seq: number })[]; cursor: number }> {
    const rows = this.selectAfter.all(cursor, limit) as unknown as { seq: number; payload: string }[];
    return {
      changes: rows.map((row) => ({ ...(JSON.parse(row.payload) as StoreChange), seq: row.seq })),
      cursor: rows.length > 0 ? rows[rows.length - 1]!.seq : cursor,
    };
  }

  async head(): Promise<number> {
    return (this.selectHead.get() as { head: number }).head;
  }
}
