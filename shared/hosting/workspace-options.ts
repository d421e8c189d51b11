import type { WorkspaceOptions } from '../workspace/workspace';
import type { WorkspaceSettings } from './settings';
import { openStoreFor } from './store-factory';

/**
 * Test and diagnostic hook, read here only: when set, linked (Baileys) accounts connect to this WebSocket
 * URL instead of WhatsApp's (e.g. a local fake WhatsApp Web server such as @openclaw/crabline). Not an
 * editor setting: a real deployment never sets it.
 */
export const WA_WEBSOCKET_URL_ENV = 'WAHOOK_WA_WEBSOCKET_URL';

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
        ...(settings.capPerHour === undefined ? {} : { perHour: settings.capPerHour }),
        ...(settings.capPerDay === undefined ? {} : { perDay: settings.capPerDay }),
      },
    },
    download: { allowPrivateAddresses: settings.allowPrivateFileUrls },
    ...(settings.initialToken === undefined ? {} : { initialToken: settings.initialToken }),
    ...(waWebSocketUrl ? { baileys: { waWebSocketUrl } } : {}),
  };
}
