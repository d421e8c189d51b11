import type { Account, AccountKind } from '../model';
import type { ChatDirectory } from '../recipients/directory';
import type { WorkspaceStore } from '../store/types';
import type { LinkSource } from './linking';
import type { Transport } from './types';

/** What a driver may use to open an account's connection: the workspace's store, directory and clock. */
export interface DriverContext {
  readonly store: WorkspaceStore;
  readonly directory: ChatDirectory;
  readonly now: () => number;
  readonly random: () => number;
  /** Errors that belong to no message (a store write that failed); engines log them. */
  readonly reportError: (error: unknown) => void;
}

/** A new device to link: `tempId` holds its auth state until the phone confirms who it is. */
export interface LinkRequest {
  readonly tempId: string;
  /** Link by pairing code for this phone (digits) instead of by QR. */
  readonly pairingPhone?: string;
}

/** A linking attempt a driver started: its QR codes or pairing code, and who linked. */
export interface LinkAttempt extends LinkSource {
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One way of reaching WhatsApp (a linked phone through Baileys, a dry run, later the Cloud API): the
 * account runtime opens every account through the driver of its kind and holds no transport's code.
 * A new transport is a folder under transport/ plus one entry in the workspace's driver list.
 */
export interface TransportDriver {
  readonly kind: AccountKind;
  /** The account's connection, idle until `start` (where the transport has one). */
  open(account: Account, context: DriverContext): Transport;
  /**
   * Pacing of this kind's accounts in place of the workspace's gaps and warm-up, where those protect
   * nothing (the Cloud API has no spam detection to look human for; its rate limits answer for themselves).
   */
  readonly pacing?: { readonly gap: { readonly minMs: number; readonly maxMs: number } };
  /**
   * Its connections hold nothing (no socket, no session: the Cloud API is plain HTTPS), so any process may
   * open one for a moment, to download a received message's media, without holding the account.
   */
  readonly holdFree?: boolean;
  /** Links a new device where the transport can (by QR or pairing code); absent where it cannot. */
  link?(request: LinkRequest, context: DriverContext): LinkAttempt;
}

export type DriverRegistry = ReadonlyMap<AccountKind, TransportDriver>;

export function driverRegistry(drivers: readonly TransportDriver[]): DriverRegistry {
  return new Map(drivers.map((driver) => [driver.kind, driver]));
}
