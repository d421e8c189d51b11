import type { DryRunRecord, DryRunRepository } from '../types';
import type { PgDatabase } from './database';
import { toDryRunRecord, type DryRunRow } from '../rows';


export class PostgresDryRunRepository implements DryRunRepository {
  private readonly upsert: string;
  private readonly selectAll: string;
  private readonly selectAccount: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    // Keyed by message id: a resend after a crash reuses the id, and counts as one more hand-over.
    this.upsert = `INSERT INTO ${s}.dry_run_sent AS d (id, account_id, jid, kind, text, file_name, mimetype, bytes, first_at, times)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)
       ON CONFLICT (id) DO UPDATE SET times = d.times + 1`;
    this.selectAll = `SELECT * FROM ${s}.dry_run_sent ORDER BY seq`;
    this.selectAccount = `SELECT * FROM ${s}.dry_run_sent WHERE account_id = $1 ORDER BY seq`;
  }

  async record(entry: Omit<DryRunRecord, 'times'>): Promise<void> {
    await this.db.run(this.upsert, [entry.id, entry.accountId, entry.jid, entry.kind, entry.text, entry.fileName, entry.mimetype, entry.bytes, entry.at]);
  }

  async list(accountId?: string): Promise<DryRunRecord[]> {
    const rows = accountId === undefined ? await this.db.rows<DryRunRow>(this.selectAll) : await this.db.rows<DryRunRow>(this.selectAccount, [accountId]);
    return rows.map(toDryRunRecord);
  }
}
