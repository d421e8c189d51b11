import type { DatabaseSync } from 'node:sqlite';
import type { Account } from '../../model';
import type { AccountRepository } from '../types';
import { toAccount, type AccountRow } from '../rows';



export class SqliteAccountRepository implements AccountRepository {
  private readonly selectAll;
  private readonly selectOne;
  private readonly upsert;
  private readonly delete;

  constructor(db: DatabaseSync) {
    this.selectAll = db.prepare('SELECT * FROM accounts ORDER BY created_at, id');
    this.selectOne = db.prepare('SELECT * FROM accounts WHERE id = ?');
    this.upsert = db.prepare(
      `INSERT INTO accounts (id, kind, phone, name, created_at, connected_at, active)
       VALUES ($id, $kind, $phone, $name, $createdAt, $connectedAt, $active)
       ON CONFLICT (id) DO UPDATE SET kind = $kind, phone = $phone, name = $name,
         connected_at = $connectedAt, active = $active`,
    );
    this.delete = db.prepare('DELETE FROM accounts WHERE id = ?');
  }

  async list(): Promise<Account[]> {
    return (this.selectAll.all() as unknown as AccountRow[]).map(toAccount);
  }

  async get(id: string): Promise<Account | undefined> {
    const row = this.selectOne.get(id) as AccountRow | undefined;
    return row ? toAccount(row) : undefined;
  }

  async put(account: Account): Promise<void> {
    this.upsert.run({
      id: account.id,
      kind: account.kind,
      phone: account.phone,
      name: account.name,
      createdAt: account.createdAt,
      connectedAt: account.connectedAt,
      active: account.active ? 1 : 0,
    });
  }

  async remove(id: string): Promise<void> {
    this.delete.run(id);
  }
}
