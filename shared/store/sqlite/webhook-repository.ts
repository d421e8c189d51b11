import type { DatabaseSync } from 'node:sqlite';
import type { WebhookState } from '../../model';
import type { WebhookRepository } from '../types';

interface WebhookRow {
  token: string;
  enabled: number;
  rotated_at: number;
}

export class SqliteWebhookRepository implements WebhookRepository {
  private readonly select;
  private readonly insert;
  private readonly updateToken;
  private readonly updateEnabled;

  constructor(db: DatabaseSync) {
    this.select = db.prepare('SELECT token, enabled, rotated_at FROM webhook WHERE id = 1');
    this.insert = db.prepare('INSERT OR IGNORE INTO webhook (id, token, enabled, rotated_at) VALUES (1, ?, 1, ?)');
    this.updateToken = db.prepare('UPDATE webhook SET token = ?, rotated_at = ? WHERE id = 1');
    this.updateEnabled = db.prepare('UPDATE webhook SET enabled = ? WHERE id = 1');
  }

  async get(initialToken: string, now: number): Promise<WebhookState> {
    this.insert.run(initialToken, now);
    return this.read();
  }

  async rotate(newToken: string, now: number): Promise<WebhookState> {
    this.updateToken.run(newToken, now);
    return this.read();
  }

  async setEnabled(enabled: boolean): Promise<WebhookState> {
    this.updateEnabled.run(enabled ? 1 : 0);
    return this.read();
  }

  private read(): WebhookState {
    const row = this.select.get() as WebhookRow | undefined;
    if (!row) throw new Error('The webhook state is missing: call get() first.');
    return { token: row.token, enabled: row.enabled === 1, rotatedAt: row.rotated_at };
  }
}
