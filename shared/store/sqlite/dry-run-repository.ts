import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { DryRunRecord, DryRunRepository } from '../types';
import { toDryRunRecord, type DryRunRow } from '../rows';


export class SqliteDryRunRepository implements DryRunRepository {
  private readonly upsert: StatementSync;
  private readonly selectAll: StatementSync;
  private readonly selectAccount: StatementSync;

  constructor(db: DatabaseSync) {
    this.upsert = db.prepare(
      `INSERT INTO dry_run_sent (id, account_id, jid, kind, text, file_name, mimetype, bytes, first_at, times)
       VALUES ($id, $accountId, $jid, $kind, $text, $fileName, $mimetype, $bytes, $at, 1)
       ON CONFLICT (id) DO UPDATE SET times = times + 1`,
    );
    this.selectAll = db.prepare('SELECT * FROM dry_run_sent ORDER BY rowid');
    this.selectAccount = db.prepare('SELECT * FROM dry_run_sent WHERE account_id = ? ORDER BY rowid');
  }

  async record(entry: Omit<DryRunRecord, 'times'>): Promise<void> {
    this.upsert.run({
      id: entry.id,
      accountId: entry.accountId,
      jid: entry.jid,
      kind: entry.kind,
      text: entry.text,
      fileName: entry.fileName,
      mimetype: entry.mimetype,
      bytes: entry.bytes,
      at: entry.at,
    });
  }

  async list(accountId?: string): Promise<DryRunRecord[]> {
    const rows = (accountId === undefined ? this.selectAll.all() : this.selectAccount.all(accountId)) as unknown as DryRunRow[];
    return rows.map(toDryRunRecord);
  }
}
