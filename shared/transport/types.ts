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

/** What kind of message arrived; edits and deletions name the message they change. */
export type IncomingKind =
  | 'text'
  | 'image'
  | 'video'
  | 'audio'
  | 'voice'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contact'
  | 'reaction'
  | 'poll'
  | 'edit'
  | 'delete'
  | 'other';

/** A person in a chat, as much as the provider says: WhatsApp names people by phone JID, LID, or both. */
export interface IncomingParty {
  /** The JID the message came with (`…@s.whatsapp.net` or `…@lid`). */
  readonly jid: string;
  /** Digits of the phone number, when known (from the JID or the directory's LID map). */
  readonly phone: string | null;
  /** The LID JID (`…@lid`), when known. */
  readonly lid: string | null;
  readonly pushName: string | null;
}

export interface IncomingMedia {
  readonly mimetype: string | null;
  /** Bytes, as the sender announced them. */
  readonly size: number | null;
  readonly fileName: string | null;
  /** Audio and video length. */
  readonly seconds: number | null;
}

/**
 * A new message that reached the account (someone wrote, or the account's own phone sent one), as the
 * transport reports it, normalised: history synced on linking and echoes of our own sends are not ones.
 * `raw` is the provider's own message, kept for what only it can do later (download media, quote it).
 */
export interface IncomingMessage {
  /** The provider's id of the message (WhatsApp's message key id for Baileys). */
  readonly id: string;
  readonly chatJid: string;
  readonly isGroup: boolean;
  /** Who wrote it: the contact in a direct chat, the participant in a group, the account itself when fromMe. */
  readonly sender: IncomingParty;
  readonly fromMe: boolean;
  /** When it was sent, ms since the epoch. */
  readonly at: number;
  readonly kind: IncomingKind;
  /** The text or caption, when it has one (for an edit: the new text). */
  readonly text: string | null;
  /** The message this one replies to, when it is a reply. */
  readonly quoted: { readonly id: string; readonly text: string | null; readonly senderJid: string | null } | null;
  /** JIDs mentioned in the text. */
  readonly mentions: readonly string[];
  readonly media: IncomingMedia | null;
  /** For a reaction: the emoji ('' when a reaction was removed) and the message reacted to. */
  readonly reaction: { readonly emoji: string; readonly targetId: string } | null;
  /** For an edit or a deletion: the message it changes. */
  readonly targetId: string | null;
  readonly location: { readonly latitude: number; readonly longitude: number; readonly name: string | null; readonly address: string | null } | null;
  readonly contacts: readonly { readonly displayName: string | null; readonly vcard: string | null }[] | null;
  readonly poll: { readonly name: string; readonly options: readonly string[] } | null;
  readonly raw: unknown;
}

/** A received message to reply to (`quoted_message_id`) or to mark read, as stored when it arrived. */
export interface MessageReference {
  readonly id: string;
  readonly chatJid: string;
  readonly senderJid: string | null;
  readonly fromMe: boolean;
  /** The provider's own message, as IncomingMessage.raw held it. */
  readonly raw: unknown;
}

/** Options of a send. */
export interface SendOptions {
  /** Reply in thread to this received message. */
  readonly quoted?: MessageReference;
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
  sendText(jid: string, text: string, messageId: string, options?: SendOptions): Promise<ProviderMessageId | void>;
  sendMedia(jid: string, media: OutgoingMedia, messageId: string, options?: SendOptions): Promise<ProviderMessageId | void>;
  /** Receipts and error acks, naming the message by the provider's id (ours where it has none of its own). */
  onStatus(listener: (update: StatusUpdate) => void): () => void;
  onStateChange(listener: (state: AccountState) => void): () => void;
  close(): Promise<void>;

  // What a connection to a real service may add (a linked phone does; a dry-run account does not).
  /** Starts connecting; until then the transport is idle. */
  start?(): Promise<void>;
  /** Tells the service this device goes away (unlink). */
  logout?(): Promise<void>;
  /**
   * A sentence about the state (why paused, logged out, replaced), until when a pause lasts and why: the
   * pause's reason holds even while `detail` says why the connection is down.
   */
  connectionInfo?(): { readonly detail: string | null; readonly pausedUntil: number | null; readonly pauseReason?: string | null };
  /** Lifts a pause early. */
  resume?(): void;
  /** Reconnects now (after being replaced, or to skip a backoff). */
  reconnect?(): void;
  /**
   * Each time the connection to the service closed on its own (not closed by us), with the service's
   * disconnect code when it gave one; the transport then reconnects, or stops and says why in its state.
   */
  onDisconnect?(listener: (code: number | null) => void): () => void;
  /** New messages as they reach the account (see IncomingMessage). */
  onIncoming?(listener: (message: IncomingMessage) => void): () => void;
  /** Marks received messages read (blue ticks for their senders), where the transport can. */
  markRead?(messages: readonly MessageReference[]): Promise<void>;
  /** The bytes of a received message's media (IncomingMessage.raw), where the transport can fetch them. */
  downloadMedia?(raw: unknown): Promise<Buffer>;
  /** The account's own name as the service knows it, once connected. */
  readonly name?: string | null;
}

/**
 * How a failed send is handled: `transient` is retried with backoff, `permanent` fails the message and
 * refunds it, `unavailable` puts it back untouched until the account is ready again.
 */
/**
 * transient: try again later, up to the retry policy's attempts. permanent: fail now. unavailable: the
 * account cannot send at all (paused); the message waits. throttled: the provider's rate limit; the
 * whole account backs off and the message waits, never failing for it.
 */
export type TransportErrorKind = 'transient' | 'permanent' | 'unavailable' | 'throttled';

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
