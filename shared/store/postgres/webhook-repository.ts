import type { WebhookState } from '../../model';
import type { WebhookRepository } from '../types';
import type { PgDatabase } from './database';

interface WebhookRow {
  token: string;
  enabled: boolean;
  rotated_at: number;
}

export class PostgresWebhookRepository implements WebhookRepository {
  private readonly insert: string;
  private readonly select: string;
  private readonly updateToken: string;
  private readonly updateEnabled: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    this.insert = `INSERT INTO ${s}.webhook (id, token, enabled, rotated_at) VALUES (1, $1, true, $2) ON CONFLICT (id) DO NOTHING`;
    this.select = `SELECT token, enabled, rotated_at FROM ${s}.webhook WHERE id = 1`;
    this.updateToken = `UPDATE ${s}.webhook SET token = $1, rotated_at = $2 WHERE id = 1 RETURNING token, enabled, rotated_at`;
    this.updateEnabled = `UPDATE ${s}.webhook SET enabled = $1 WHERE id = 1 RETURNING token, enabled, rotated_at`;
  }

  async get(initialToken: string, now: number): Promise<WebhookState> {
    await this.db.run(this.insert, [initialToken, now]);
    return toState(await this.db.rows<WebhookRow>(this.select));
  }

  async rotate(newToken: string, now: number): Promise<WebhookState> {
    return toState(await this.db.rows<WebhookRow>(this.updateToken, [newToken, now]));
  }

  async setEnabled(enabled: boolean): Promise<WebhookState> {
    return toState(await this.db.rows<WebhookRow>(this.updateEnabled, [enabled]));
  }
}

function toState([row]: WebhookRow[]): WebhookState {
  if (!row) throw new Error('The webhook state is missing: call get() first.');
  return { token: row.token, enabled: row.enabled, rotatedAt: row.rotated_at };
}
