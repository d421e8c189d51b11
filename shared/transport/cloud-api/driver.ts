import type { TransportDriver } from '../driver';
import { CloudApiConnection, type CloudApiConnectionOptions, type CloudApiSettings } from './connection';

/**
 * Cloud API accounts: their credentials come from the engine (its credential store), looked up by account
 * id, never from the workspace's database.
 */
export interface CloudApiAccountsOptions extends CloudApiConnectionOptions {
  readonly settings?: (accountId: string) => CloudApiSettings | undefined;
  /** Each connection opened, so that the host routes verified webhook calls to it. */
  readonly opened?: (connection: CloudApiConnection) => void;
}

/** Accounts of kind `cloud-api`: a business number on Meta's WhatsApp Cloud API; nothing to link. */
export function cloudApiDriver(options: CloudApiAccountsOptions = {}): TransportDriver {
  const { settings, opened, ...connectionOptions } = options;
  return {
    kind: 'cloud-api',
    open: (account, context) => {
      const connection = new CloudApiConnection(account.id, account.phone, settings?.(account.id), { now: context.now, ...connectionOptions });
      opened?.(connection);
      return connection;
    },
  };
}
