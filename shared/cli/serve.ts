import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createWebhookServer, WEBHOOK_PATH_PREFIX } from '../webhook/standalone-server';
import { openStore } from '../hosting/store-factory';
import type { StoreChoice } from '../hosting/store-choice';
import { Workspace } from '../workspace/workspace';
import { CLOUD_API_PATH_SEGMENT } from '../webhook/cloud-api-webhook';
import { cloudApiNumbersFor } from '../hosting/workspace-options';
import type { CloudApiSettings } from '../transport/cloud-api/connection';

export interface ServeOptions {
  /** The SQLite file, or a PostgreSQL schema that engines and other `serve`s may share. */
  readonly store: StoreChoice;
  readonly host: string;
  readonly port: number;
  /** Adds a dry-run account with this phone (digits) if the workspace has none of that number. */
  readonly dryRunPhone?: string;
  /** The scrape token /metrics and /healthz need (see createWebhookServer). */
  readonly metricsToken?: string;
  /** How long final and received messages are kept (days; 0 keeps everything); the workspace's default when absent. */
  readonly retentionDays?: number;
  /** A WhatsApp Cloud API number served beside the linked phones. */
  readonly cloudApi?: CloudApiSettings;
}

/** Serves the webhook alone (no n8n, no Node-RED) until SIGINT or SIGTERM. */
export async function serve(options: ServeOptions, print: (line: string) => void): Promise<void> {
  const workspace = await Workspace.open({
    store: openStore(options.store),
    ...(options.cloudApi ? { cloudApi: { numbers: cloudApiNumbersFor(options.cloudApi) } } : {}),
    onError: (error) => print(`warning: ${error instanceof Error ? error.message : String(error)}`),
    ...(options.retentionDays === undefined ? {} : { retention: { keepMs: options.retentionDays * 24 * 3_600_000 } }),
  });
  if (options.dryRunPhone && !workspace.accounts().some((account) => account.phone === options.dryRunPhone)) {
    await workspace.addDryRunAccount(options.dryRunPhone, 'dry run');
  }
  workspace.onMessageChange((change) => print(`message ${change.messageId}: ${change.status}${change.reason ? ` (${change.reason})` : ''}`));
  const server = createWebhookServer(workspace, options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}${WEBHOOK_PATH_PREFIX}${workspace.webhookState().token}`;
  // Listening for the signals before the URL is printed: whoever waits for that line may stop us at once.
  const stopped = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  print(`Webhook URL: ${url}`);
  print(`Metrics: http://${options.host}:${port}/metrics and health: http://${options.host}:${port}/healthz (${options.metricsToken === undefined ? 'callers on this machine only' : 'with the scrape token'})`);
  if (options.cloudApi) print(`Cloud API webhook (the callback URL in the Meta app, behind HTTPS): http://${options.host}:${port}${WEBHOOK_PATH_PREFIX}${CLOUD_API_PATH_SEGMENT}`);
  print(`Try it: curl -s -H 'content-type: application/json' -d '{"action":"send","phone":"+14151231234","text":"hello"}' ${url}`);
  await stopped;
  server.close();
  await workspace.close();
}
