import type { PublishedWebhook } from '../../webhook/urls';
import type { WebhookUrlRepository } from '../types';
import type { PgDatabase } from './database';
import { toWebhookUrl, type WebhookUrlRow } from '../rows';


/** The `webhook_urls` table: one row per active entry point. */
export class PostgresWebhookUrlRepository implements WebhookUrlRepository {
  private readonly upsert: string;
  private readonly remove: string;
  private readonly selectAll: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    this.upsert = `INSERT INTO ${s}.webhook_urls (flow_id, node_id, label, url_template, dedicated_url_template, link_url_template, published_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (flow_id, node_id) DO UPDATE SET label = excluded.label, url_template = excluded.url_template,
         dedicated_url_template = excluded.dedicated_url_template, link_url_template = excluded.link_url_template,
         published_at = excluded.published_at`;
    this.remove = `DELETE FROM ${s}.webhook_urls WHERE flow_id = $1 AND node_id = $2 AND url_template = $3`;
    this.selectAll = `SELECT flow_id, node_id, label, url_template, dedicated_url_template, link_url_template, published_at
       FROM ${s}.webhook_urls ORDER BY published_at, flow_id COLLATE "C", node_id COLLATE "C"`;
  }

  async publish(entry: PublishedWebhook, now: number): Promise<void> {
    await this.db.run(this.upsert, [entry.flowId, entry.nodeId, entry.label, entry.urlTemplate, entry.dedicatedUrlTemplate, entry.linkUrlTemplate, now]);
  }

  async withdraw(flowId: string, nodeId: string, urlTemplate: string): Promise<void> {
    await this.db.run(this.remove, [flowId, nodeId, urlTemplate]);
  }

  async list(): Promise<(PublishedWebhook & { readonly publishedAt: number })[]> {
    return (await this.db.rows<WebhookUrlRow>(this.selectAll)).map(toWebhookUrl);
  }
}
