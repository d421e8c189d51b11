import type { LinkPageRecord, LinkPageRepository } from '../types';
import type { PgDatabase } from './database';

interface LinkPageRow {
  key: string;
  expires_at: string | number;
  view_key: string | null;
  state: string;
  retired: 'used' | 'expired' | null;
  forget_at: string | number;
}

/** Link pages every process of the workspace serves: the one running the linking session writes them. */
export class PostgresLinkPageRepository implements LinkPageRepository {
  private readonly upsert: string;
  private readonly selectOne: string;
  private readonly claim: string;
  private readonly retireOne: string;
  private readonly deleteForgotten: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    this.upsert = `INSERT INTO ${s}.link_pages AS p (key, expires_at, view_key, state, retired, forget_at) VALUES ($1, $2, NULL, $3, NULL, $4)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, state = excluded.state, forget_at = excluded.forget_at WHERE p.retired IS NULL`;
    this.selectOne = `SELECT * FROM ${s}.link_pages WHERE key = $1`;
    // One statement: of two page loads at once, in any processes, one gets the view key.
    this.claim = `UPDATE ${s}.link_pages SET view_key = $2 WHERE key = $1 AND view_key IS NULL AND retired IS NULL`;
    this.retireOne = `UPDATE ${s}.link_pages SET retired = $2, forget_at = $3 WHERE key = $1 AND retired IS NULL`;
    this.deleteForgotten = `DELETE FROM ${s}.link_pages WHERE forget_at <= $1`;
  }

  async put(key: string, expiresAt: number, state: string, forgetAt: number): Promise<void> {
    await this.db.run(this.upsert, [key, expiresAt, state, forgetAt]);
  }

  async get(key: string): Promise<LinkPageRecord | undefined> {
    const [row] = await this.db.rows<LinkPageRow>(this.selectOne, [key]);
    if (!row) return undefined;
    return { key: row.key, expiresAt: Number(row.expires_at), viewKey: row.view_key, state: row.state, retired: row.retired, forgetAt: Number(row.forget_at) };
  }

  async claimView(key: string, viewKey: string): Promise<boolean> {
    return (await this.db.run(this.claim, [key, viewKey])) > 0;
  }

  async retire(key: string, why: 'used' | 'expired', forgetAt: number): Promise<void> {
    await this.db.run(this.retireOne, [key, why, forgetAt]);
  }

  async prune(now: number): Promise<void> {
    await this.db.run(this.deleteForgotten, [now]);
  }
}
