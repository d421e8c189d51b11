import type { MediaKind } from '../attachments/types';
import type { AccountState, ReceiptStatus } from '../model';

/** A file ready to send, downloaded and typed by the core. */
export interface OutgoingMedia {
  readonly kind: MediaKind;
  readonly buffer: Buffer;
  readonly mimetype: string;
  readonly fileName: string;
}

/** The id a provider gave a message we sent, kept beside ours to match its receipts. */
export type ProviderMessageId = string;

export type PhoneLookup = { readonly onWhatsApp: true; readonly jid: string } | { readonly onWhatsApp: false };

/** A receipt or an error acknowledgement for a message we sent. */
export type StatusUpdate =
  | { readonly messageId: string; readonly status: ReceiptStatus }
  | { readonly messageId: string; readonly status: 'failed'; readonly reason: string };

/**
 * A new message that reached the account (someone wrote, or the account's own phone sent one), as the
 * transport reports it; history synced on linking is not one. Nothing consumes it yet (incoming messages
 * into flows come next); `raw` is the provider's own message, for the normaliser that will.
 */
export interface IncomingMessage {
  /** The provider's id of the message (WhatsApp's message key id for Baileys). */
  readonly id: string;
  readonly chatJid: string;
  /** Who wrote it: the participant in a group, else the chat; null when the provider does not say. */
  readonly senderJid: string | null;
  readonly fromMe: boolean;
  readonly at: number;
  /** The text or caption, when it has one. */
  readonly text: string | null;
  readonly raw: unknown;
}

/**
 * The narrow interface the core sends through, one per linked account. The Baileys connection and the
 * dry-run account implement it; tests may use fakes.
 */
export interface Transport {
  readonly state: AccountState;
  /** The account's own number once known (digits), for choosing accounts by `whatsapp_account_phone`. */
  readonly phone: string | null;
  /** Whether a send can be attempted now. */
  isReady(): boolean;
  /** The real JID of a phone number (digits), or that it is not on WhatsApp. */
  resolvePhone(digits: string): Promise<PhoneLookup>;
  /**
   * Sends with our id; resolves once handed to WhatsApp (not delivered), with the provider's id for the
   * message where the provider assigns its own (the Cloud API's wamid), else nothing (Baileys sends
   * with ours). Throws TransportError.
   */
  sendText(jid: string, text: string, messageId: string): Promise<ProviderMessageId | void>;
  sendMedia(jid: string, media: OutgoingMedia, messageId: string): Promise<ProviderMessageId | void>;
  /** Receipts and error acks, naming the message by the provider's id (ours where it has none of its own). */
  onStatus(listener: (update: StatusUpdate) => void): () => void;
  onStateChange(listener: (state: AccountState) => void): () => void;
  close(): Promise<void>;

  // What a connection to a real service may add (a linked phone does; a dry-run account does not).
  /** Starts connecting; until then the transport is idle. */
  start?(): Promise<void>;
  /** Tells the service this device goes away (unlink). */
  logout?(): Promise<void>;
  /** A sentence about the state (why paused, logged out, replaced) and until when a pause lasts. */
  connectionInfo?(): { readonly detail: string | null; readonly pausedUntil: number | null };
  /** Lifts a pause early. */
  resume?(): void;
  /** Reconnects now (after being replaced, or to skip a backoff). */
  reconnect?(): void;
  /** New messages as they reach the account (see IncomingMessage). */
  onIncoming?(listener: (message: IncomingMessage) => void): () => void;
  /** The account's own name as the service knows it, once connected. */
  readonly name?: string | null;
}

/**
 * How a failed send is handled: `transient` is retried with backoff, `permanent` fails the message and
 * refunds it, `unavailable` puts it back untouched until the account is ready again.
 */
export type TransportErrorKind = 'transient' | 'permanent' | 'unavailable';

export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    /** One sentence a person understands; becomes the message's failure reason. */
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'TransportError';
  }
}
