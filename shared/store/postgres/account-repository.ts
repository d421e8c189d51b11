import type { Account } from '../../model';
import type { AccountRepository } from '../types';
import type { PgDatabase } from './database';
import { toAccount, type AccountRow } from '../rows';



export class PostgresAccountRepository implements AccountRepository {
  private readonly selectAll: string;
  private readonly selectOne: string;
  private readonly upsert: string;
  private readonly delete: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    // COLLATE "C": ids in byte order, as the SQLite store lists them, whatever the database's collation.
    this.selectAll = `SELECT * FROM ${s}.accounts ORDER BY created_at, id COLLATE "C"`;
    this.selectOne = `SELECT * FROM ${s}.accounts WHERE id = $1`;
    this.upsert = `INSERT INTO ${s}.accounts (id, kind, phone, name, created_at, connected_at, active)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, phone = excluded.phone, name = excluded.name,
         connected_at = excluded.connected_at, active = excluded.active`;
    this.delete = `DELETE FROM ${s}.accounts WHERE id = $1`;
  }

  async list(): Promise<Account[]> {
    return (await this.db.rows<AccountRow>(this.selectAll)).map(toAccount);
  }

  async get(id: string): Promise<Account | undefined> {
    const [row] = await this.db.rows<AccountRow>(this.selectOne, [id]);
    return row ? toAccount(row) : undefined;
  }

  async put(account: Account): Promise<void> {
    await this.db.run(this.upsert, [account.id, account.kind, account.phone, account.name, account.createdAt, account.connectedAt, account.active]);
  }

  async remove(id: string): Promise<void> {
    await this.db.run(this.delete, [id]);
  }
}
