/**
 * The one place that loads Baileys. Everything else in the transport talks to the narrow interfaces
 * below (and the few types re-exported here), so a Baileys upgrade touches this file first and tests
 * can put a fake socket behind the same interface.
 */
import type * as Baileys from '@whiskeysockets/baileys';

export type BaileysModule = typeof Baileys;

// The Baileys types the rest of the transport needs, named once.
export type AuthenticationCreds = Baileys.AuthenticationCreds;
export type AuthenticationState = Baileys.AuthenticationState;
export type CacheStore = Baileys.CacheStore;
export type BaileysEventMap = Baileys.BaileysEventMap;
export type Chat = Baileys.Chat;
export type ChatUpdate = Baileys.ChatUpdate;
export type ConnectionState = Baileys.ConnectionState;
export type Contact = Baileys.Contact;
export type GroupMetadata = Baileys.GroupMetadata;
export type LIDMapping = Baileys.LIDMapping;
export type MessageUserReceiptUpdate = Baileys.MessageUserReceiptUpdate;
export type NewChatMessageCapInfo = Baileys.NewChatMessageCapInfo;
export type ReachoutTimelockState = Baileys.ReachoutTimelockState;
export type SignalDataSet = Baileys.SignalDataSet;
export type SignalDataTypeMap = Baileys.SignalDataTypeMap;
export type SignalKeyStore = Baileys.SignalKeyStore;
export type WAMessage = Baileys.WAMessage;
export type WAMessageKey = Baileys.WAMessageKey;
export type WAMessageUpdate = Baileys.WAMessageUpdate;
export type ProtoMessage = Baileys.proto.IMessage;

/** Baileys' logger interface (pino's shape); not exported from Baileys' index, so spelled out here. */
export interface ILogger {
  level: string;
  child(bindings: Record<string, unknown>): ILogger;
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

let loaded: BaileysModule | undefined;

/**
 * Loads Baileys on first use: it is heavy, and a workspace with only dry-run accounts never needs it.
 * Baileys 7 is ESM-only; our CommonJS output require()s it, which Node does natively from 22.12 on.
 */
export function loadBaileys(): BaileysModule {
  loaded ??= require('@whiskeysockets/baileys') as BaileysModule;
  return loaded;
}

/** Events as one batch per flush: Baileys buffers and merges them (`sock.ev` is not a plain emitter). */
export interface BaileysEvents {
  process(handler: (events: Partial<BaileysEventMap>) => void | Promise<void>): () => void;
}

/** What we send: text, or one file from a Buffer the core downloaded (never a URL Baileys would fetch). */
export type OutgoingContent =
  /** `linkPreview: null`: Baileys would otherwise fetch any URL in the text from this server (private addresses included). */
  | { readonly text: string; readonly linkPreview: null }
  | { readonly image: Buffer; readonly mimetype: string }
  | { readonly video: Buffer; readonly mimetype: string }
  | { readonly audio: Buffer; readonly mimetype: string; readonly ptt: false }
  | { readonly document: Buffer; readonly mimetype: string; readonly fileName: string };

/** How we send: always with our own id; `quoted` makes the message a reply in thread. */
export interface OutgoingOptions {
  readonly messageId: string;
  readonly quoted?: WAMessage;
}

/** The part of a Baileys socket this transport uses. The real socket satisfies it; tests fake it. */
export interface BaileysSocket {
  readonly ev: BaileysEvents;
  sendMessage(jid: string, content: OutgoingContent, options: OutgoingOptions): Promise<WAMessage | undefined>;
  /** Read receipts (blue ticks) for received messages; Baileys skips keys that are fromMe. */
  readMessages(keys: WAMessageKey[]): Promise<void>;
  /** Asks the sender's phone to upload a media file again (its URL expired); the message with the new URL. */
  updateMediaMessage(message: WAMessage): Promise<WAMessage>;
  /** Sends a message as built, with our id: a resend of a refused message to the contact's LID. */
  relayMessage(jid: string, message: ProtoMessage, options: { readonly messageId: string }): Promise<string>;
  /**
   * Baileys' LID ↔ phone map, kept in the signal key store (`lid-mapping`). `getLIDForPN` asks WhatsApp
   * (a usync query) when the key store has no mapping.
   */
  readonly signalRepository?: {
    readonly lidMapping: { getPNForLID(lid: string): Promise<string | null>; getLIDForPN(pn: string): Promise<string | null> };
  };
  onWhatsApp(...phones: string[]): Promise<readonly { readonly jid: string; readonly exists: unknown }[] | undefined>;
  sendPresenceUpdate(type: 'composing' | 'paused', jid: string): Promise<void>;
  groupFetchAllParticipating(): Promise<Record<string, GroupMetadata>>;
  requestPairingCode(phone: string): Promise<string>;
  logout(reason?: string): Promise<void>;
  end(error: Error | undefined): Promise<void> | void;
}

/** The socket options this transport decides; the factory adds the fixed ones. */
export interface SocketOptions {
  readonly auth: AuthenticationState;
  /** Where WhatsApp Web is; tests point this at a local fake server. Default: Baileys' own. */
  readonly waWebSocketUrl: string | undefined;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly keepAliveIntervalMs: number;
  readonly logger: ILogger;
  /** Resends after a recipient's retry receipt. */
  readonly getMessage: (key: WAMessageKey) => Promise<ProtoMessage | undefined>;
  /** Group sends otherwise fetch the group's metadata every time, which WhatsApp rate-limits. */
  readonly cachedGroupMetadata: (jid: string) => Promise<GroupMetadata | undefined>;
}

export type SocketFactory = (options: SocketOptions) => BaileysSocket;

/** Opens a real Baileys socket. */
export const makeBaileysSocket: SocketFactory = (options) => {
  const baileys = loadBaileys();
  const socket: Baileys.WASocket = baileys.makeWASocket({
    auth: options.auth,
    ...(options.waWebSocketUrl === undefined ? {} : { waWebSocketUrl: options.waWebSocketUrl }),
    connectTimeoutMs: options.connectTimeoutMs,
    defaultQueryTimeoutMs: options.queryTimeoutMs,
    keepAliveIntervalMs: options.keepAliveIntervalMs,
    logger: options.logger,
    getMessage: options.getMessage,
    cachedGroupMetadata: options.cachedGroupMetadata,
    // Online on connect would silence the notifications on the owner's phone.
    markOnlineOnConnect: false,
    // The directory needs chats and contacts, not years of messages.
    syncFullHistory: false,
  });
  const end = socket.end;
  // Baileys' end() drops its WebSocket close listeners before closing, so queries still waiting for an
  // answer keep their timers until they time out. Closing the WebSocket first makes them fail at once.
  socket.end = async (error) => {
    await closeWebSocket(socket.ws, WEBSOCKET_CLOSE_WAIT_MS);
    await end(error);
  };
  return socket;
};

const WEBSOCKET_CLOSE_WAIT_MS = 2_000;

async function closeWebSocket(ws: Baileys.WASocket['ws'], waitMs: number): Promise<void> {
  if (ws.isClosed || ws.isClosing) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ws.close().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
  ]);
  clearTimeout(timer);
}

/** The numeric code of a Baileys disconnect error (a Boom), if it has one. */
export function disconnectCode(error: unknown): number | undefined {
  const code = (error as { output?: { statusCode?: unknown } } | undefined)?.output?.statusCode;
  return typeof code === 'number' ? code : undefined;
}
