import type { TransportDriver } from '../driver';
import { CloudApiConnection, type CloudApiConnectionOptions, type CloudApiSettings } from './connection';

/**
 * Cloud API accounts: their numbers and credentials come from the engine (its credential store), never
 * from the workspace's database; each number is the account `cloudApiAccountId(phoneNumberId)`.
 */
export interface CloudApiAccountsOptions extends CloudApiConnectionOptions {
  readonly numbers?: readonly CloudApiSettings[];
}

/**
 * The Cloud API's pacing profile: 20 ms between two sends of a number (at most 50 a second, under the
 * 80 a second Meta allows a number by default), no random gaps to look human and no warm-up. Meta's
 * limits answer for themselves: a rate-limit error backs the account off (dispatch/throttle.ts).
 */
export const CLOUD_API_GAP = { minMs: 20, maxMs: 20 } as const;

/** The account of a Cloud API business number: the same id in every process and across restarts. */
export function cloudApiAccountId(phoneNumberId: string): string {
  return `cloud-api-${phoneNumberId}`;
}

/**
 * Accounts of kind `cloud-api`: a business number on Meta's WhatsApp Cloud API; nothing to link. `numbers`
 * gives the numbers as the settings name them now (a new token takes effect at the next open).
 */
export function cloudApiDriver(numbers: () => readonly CloudApiSettings[], connectionOptions: CloudApiConnectionOptions = {}): TransportDriver {
  return {
    kind: 'cloud-api',
    pacing: { gap: CLOUD_API_GAP },
    holdFree: true,
    open: (account) => {
      const settings = numbers().find((number) => cloudApiAccountId(number.phoneNumberId) === account.id);
      return new CloudApiConnection(account.id, account.phone, settings, connectionOptions);
    },
  };
}
