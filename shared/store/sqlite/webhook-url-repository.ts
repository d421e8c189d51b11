import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { PublishedWebhook } from '../../webhook/urls';
import type { WebhookUrlRepository } from '../types';
import { toWebhookUrl, type WebhookUrlRow } from '../rows';


/** The `webhook_urls` table: one row per active entry point. */
export class SqliteWebhookUrlRepository implements WebhookUrlRepository {
  private readonly upsert: StatementSync;
  private readonly remove: StatementSync;
  private readonly selectAll: StatementSync;

  constructor(db: DatabaseSync) {
    this.upsert = db.prepare(
      `INSERT INTO webhook_urls (flow_id, node_id, label, url_template, dedicated_url_template, link_url_template, published_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (flow_id, node_id) DO UPDATE SET label = ?3, url_template = ?4, dedicated_url_template = ?5, link_url_template = ?6, published_at = ?7`,
    );
    this.remove = db.prepare('DELETE FROM webhook_urls WHERE flow_id = ? AND node_id = ? AND url_template = ?');
    this.selectAll = db.prepare(
      'SELECT flow_id, node_id, label, url_template, dedicated_url_template, link_url_template, published_at FROM webhook_urls ORDER BY published_at, flow_id, node_id',
    );
  }

  async publish(entry: PublishedWebhook, now: number): Promise<void> {
    this.upsert.run(entry.flowId, entry.nodeId, entry.label, entry.urlTemplate, entry.dedicatedUrlTemplate, entry.linkUrlTemplate, now);
  }

  async withdraw(flowId: string, nodeId: string, urlTemplate: string): Promise<void> {
    this.remove.run(flowId, nodeId, urlTemplate);
  }

  async list(): Promise<(PublishedWebhook & { readonly publishedAt: number })[]> {
    return (this.selectAll.all() as unknown as WebhookUrlRow[]).map(toWebhookUrl);
  }
}
