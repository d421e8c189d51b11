import type { Account } from '../../model';
import type { Clock } from '../../time/clock';
import type { DriverContext, LinkAttempt, LinkRequest, TransportDriver } from '../driver';
import type { SocketFactory } from './baileys-module';
import { BaileysConnection, type BaileysConnectionOptions, type ConnectionMode } from './connection';

/** Linked (Baileys) accounts: connection settings; tests also give the socket factory and clock. */
export interface BaileysAccountsOptions extends BaileysConnectionOptions {
  /** How long queued messages wait for a logged-out account to be linked again; then they fail and are refunded. */
  readonly loggedOutTtlMs?: number;
  readonly makeSocket?: SocketFactory;
  readonly clock?: Clock;
}

/** Accounts of kind `baileys`: a phone linked as a WhatsApp Web device, one socket per account. */
export function baileysDriver(options: BaileysAccountsOptions = {}): TransportDriver {
  const { loggedOutTtlMs: _ttl, makeSocket, clock, ...connectionOptions } = options;
  const open = (accountId: string, phone: string | null, mode: ConnectionMode, context: DriverContext): BaileysConnection =>
    new BaileysConnection(
      connectionOptions,
      {
        accountId,
        phone,
        auth: context.store.auth,
        // Synced chats get their chat ids here; a push name never replaces a name the directory shows.
        directory: {
          upsert: async (chats) => {
            await context.directory.upsert(accountId, chats, context.now());
          },
          nameOf: (jid) => {
            const chat = context.directory.findByJid(accountId, jid);
            return chat ? chat.name : undefined;
          },
        },
        messageText: async (id) => (await context.store.outbox.get(id))?.text ?? undefined,
        ...(makeSocket ? { makeSocket } : {}),
        ...(clock ? { clock } : {}),
        random: context.random,
        onError: context.reportError,
      },
      mode,
    );
  return {
    kind: 'baileys',
    open: (account: Account, context) => open(account.id, account.phone, { kind: 'connect' }, context),
    link: (request: LinkRequest, context): LinkAttempt => {
      const connection = open(request.tempId, null, { kind: 'link', ...(request.pairingPhone ? { pairingPhone: request.pairingPhone } : {}) }, context);
      return {
        onQr: (listener) => connection.onQr(listener),
        onPairingCode: (listener) => connection.onPairingCode(listener),
        outcome: connection.outcome,
        cancel: () => connection.cancel(),
        start: () => connection.start(),
        close: () => connection.close(),
      };
    },
  };
}
