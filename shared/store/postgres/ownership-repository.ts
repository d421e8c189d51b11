import type { OwnershipRepository } from '../types';
import type { PgDatabase } from './database';

/**
 * Account ownership across processes: one row per held account, every change one atomic statement, so at
 * most one owner holds an account at any instant. Times are the callers' `now`, as in the SQLite store
 * (OwnershipKeeper gives every process the same rule: renew well before `until`).
 */
export class PostgresOwnershipRepository implements OwnershipRepository {
  private readonly take: string;
  private readonly extend: string;
  private readonly drop: string;
  private readonly selectHolder: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    // Inserts a new hold, or takes over one that is this owner's or has run out; another owner's live
    // hold is left as it is and nothing is returned. Concurrent takers meet on the primary key.
    this.take = `INSERT INTO ${s}.ownership AS o (account_id, owner, until) VALUES ($1, $2, $3::bigint + $4::bigint)
       ON CONFLICT (account_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
         WHERE o.owner = excluded.owner OR o.until <= $3::bigint
       RETURNING owner`;
    this.extend = `UPDATE ${s}.ownership SET until = $3::bigint + $4::bigint WHERE account_id = $1 AND owner = $2 AND until > $3::bigint`;
    this.drop = `DELETE FROM ${s}.ownership WHERE account_id = $1 AND owner = $2`;
    this.selectHolder = `SELECT owner FROM ${s}.ownership WHERE account_id = $1 AND until > $2`;
  }

  async acquire(accountId: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return (await this.db.rows(this.take, [accountId, owner, now, ttlMs])).length > 0;
  }

  async renew(accountId: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return (await this.db.run(this.extend, [accountId, owner, now, ttlMs])) > 0;
  }

  async release(accountId: string, owner: string): Promise<void> {
    await this.db.run(this.drop, [accountId, owner]);
  }

  async ownerOf(accountId: string, now: number): Promise<string | undefined> {
    return (await this.db.rows<{ owner: string }>(this.selectHolder, [accountId, now]))[0]?.owner;
  }
}
