import type { WorkspaceOptions } from '../workspace/workspace';
import type { WorkspaceSettings } from './settings';
import type { CloudApiSettings } from '../transport/cloud-api/connection';
import { openStoreFor } from './store-factory';

/**
 * Test and diagnostic hook, read here only: when set, linked (Baileys) accounts connect to this WebSocket
 * URL instead of WhatsApp's (e.g. a local fake WhatsApp Web server such as @openclaw/crabline). Not an
 * editor setting: a real deployment never sets it.
 */
export const WA_WEBSOCKET_URL_ENV = 'WAHOOK_WA_WEBSOCKET_URL';

/**
 * `WAHOOK_OWN_ACCOUNTS=false` makes this process accept webhook calls and Send steps without ever
 * holding an account's WhatsApp connection: for short-lived or many workers beside a process that owns
 * the accounts (on a shared PostgreSQL store, another process then sends). Any other value, or none,
 * lets this process take accounts no one else holds.
 */
export const OWN_ACCOUNTS_ENV = 'WAHOOK_OWN_ACCOUNTS';

/**
 * Test hook, like WA_WEBSOCKET_URL_ENV: when set, Cloud API accounts call this base URL instead of
 * https://graph.facebook.com (the tests' local fake Graph API). Never an editor setting.
 */
export const GRAPH_API_URL_ENV = 'WAHOOK_GRAPH_API_URL';

/** A configured Cloud API number as its connection uses it (the test hook's Graph API URL applied); none: []. */
export function cloudApiNumbersFor(number: CloudApiSettings | undefined, env: NodeJS.ProcessEnv = process.env): CloudApiSettings[] {
  if (!number) return [];
  const graphApiUrl = env[GRAPH_API_URL_ENV]?.trim();
  return [{ ...number, ...(graphApiUrl ? { graphBaseUrl: graphApiUrl } : {}) }];
}

/** The core's options for these settings, on the store they name (the SQLite file or a PostgreSQL schema). */
export function workspaceOptionsFor(settings: WorkspaceSettings, env: NodeJS.ProcessEnv = process.env): WorkspaceOptions {
  const waWebSocketUrl = env[WA_WEBSOCKET_URL_ENV]?.trim();
  return {
    store: openStoreFor(settings),
    quota: {
      period: settings.quotaPeriod,
      allowance: settings.quotaAllowance,
      refundDelayMs: settings.refundDelayMinutes * 60_000,
    },
    pacing: {
      gap: { minMs: settings.gapMinSeconds * 1000, maxMs: settings.gapMaxSeconds * 1000 },
      caps: {
        ...(settings.capPerMinute === undefined ? {} : { perMinute: settings.capPerMinute }),
        ...(settings.capPerHour === undefined ? {} : { perHour: settings.capPerHour }),
        ...(settings.capPerDay === undefined ? {} : { perDay: settings.capPerDay }),
      },
      ...(settings.warmup ? { warmup: { days: settings.warmup.days, startFraction: settings.warmup.startPercent / 100 } } : {}),
    },
    download: { allowPrivateAddresses: settings.allowPrivateFileUrls },
    retention: { keepMs: settings.retentionDays * 24 * 3_600_000 },
    ...(settings.initialToken === undefined ? {} : { initialToken: settings.initialToken }),
    ...(waWebSocketUrl ? { baileys: { waWebSocketUrl } } : {}),
    ...(settings.cloudApi ? { cloudApi: { numbers: cloudApiNumbersFor(settings.cloudApi, env) } } : {}),
    ...(env[OWN_ACCOUNTS_ENV]?.trim().toLowerCase() === 'false' ? { connectAccounts: false } : {}),
  };
}
