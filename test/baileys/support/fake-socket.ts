import { Boom } from '@hapi/boom';
import {
  loadBaileys,
  type BaileysEventMap,
  type BaileysSocket,
  type GroupMetadata,
  type OutgoingContent,
  type OutgoingOptions,
  type ProtoMessage,
  type SocketFactory,
  type SocketOptions,
  type WAMessage,
  type WAMessageKey,
} from '../../../shared/transport/baileys/baileys-module';
import { SILENT_LOGGER } from '../../../shared/transport/baileys/logger';

export interface SendCall {
  readonly jid: string;
  readonly content: OutgoingContent;
  readonly messageId: string;
  /** The message replied to, when the send quotes one. */
  readonly quoted?: WAMessage;
  readonly at: number;
}

type EventBuffer = ReturnType<ReturnType<typeof loadBaileys>['makeEventBuffer']>;

/**
 * A Baileys socket without a network. Its `ev` is Baileys' own event buffer (which buffers, merges and
 * batches events exactly as a real socket's does), and what it sends back is built with Baileys'
 * `generateWAMessageFromContent`. Tests play WhatsApp: open it, close it with a disconnect code, emit
 * receipts and restrictions, script lookups.
 */
export class FakeSocket implements BaileysSocket {
  readonly ev: EventBuffer;
  readonly sent: SendCall[] = [];
  readonly presence: { readonly type: string; readonly jid: string; readonly at: number }[] = [];
  readonly lookups: string[] = [];
  readonly pairingRequests: string[] = [];
  /** Every `readMessages` call's keys. */
  readonly reads: WAMessageKey[][] = [];
  /** Scripted `readMessages`; by default it resolves. */
  read: ((keys: WAMessageKey[]) => Promise<void>) | undefined;
  /** Scripted `updateMediaMessage` (the phone uploads an expired file again). */
  reupload: ((message: WAMessage) => Promise<WAMessage>) | undefined;
  readonly reuploads: WAMessage[] = [];
  /** Baileys' LID → phone map: what `signalRepository.lidMapping.getPNForLID` finds. */
  readonly phoneByLid = new Map<string, string>();
  /** Scripted `getPNForLID`; by default it reads `phoneByLid`. */
  lidLookup: ((lid: string) => Promise<string | null>) | undefined;
  readonly lidLookups: string[] = [];
  /** Baileys' phone → LID map: what `signalRepository.lidMapping.getLIDForPN` finds. */
  readonly lidByPhone = new Map<string, string>();
  /** Every `getLIDForPN` call's phone JID. */
  readonly phoneLookups: string[] = [];
  readonly signalRepository = {
    lidMapping: {
      getPNForLID: (lid: string): Promise<string | null> => {
        this.lidLookups.push(lid);
        return this.lidLookup ? this.lidLookup(lid) : Promise.resolve(this.phoneByLid.get(lid) ?? null);
      },
      getLIDForPN: (pn: string): Promise<string | null> => {
        this.phoneLookups.push(pn);
        return Promise.resolve(this.lidByPhone.get(pn) ?? null);
      },
    },
  };
  /** Every `relayMessage` call: a message sent again as built (a resend to a LID). */
  readonly relayed: { readonly jid: string; readonly message: ProtoMessage; readonly messageId: string; readonly at: number }[] = [];
  /** Scripted `relayMessage`; by default it resolves with the id. */
  relay: ((jid: string, message: ProtoMessage, messageId: string) => Promise<string>) | undefined;
  ended = false;
  endError: Error | undefined;
  loggedOut = false;
  groupFetches = 0;
  groups: Record<string, GroupMetadata> = {};
  /** Scripted `onWhatsApp` answers; by default every number exists under its naive JID. */
  lookup: (phone: string) => Promise<readonly { jid: string; exists: boolean }[] | undefined> = async (phone) => [
    { jid: `${phone}@s.whatsapp.net`, exists: true },
  ];
  /** Scripted `sendMessage`; by default the message WhatsApp would echo back. */
  send: ((call: SendCall) => Promise<WAMessage | undefined>) | undefined;

  constructor(
    readonly options: SocketOptions,
    private readonly now: () => number,
  ) {
    this.ev = loadBaileys().makeEventBuffer(SILENT_LOGGER);
  }

  get user(): { id: string } | undefined {
    return this.options.auth.creds.me;
  }

  /** WhatsApp accepted the login. */
  open(): void {
    this.emit('connection.update', { connection: 'open' });
  }

  /** The connection ended with this `DisconnectReason` code, as Baileys reports it. */
  disconnect(code: number, message = 'Connection Failure'): void {
    void this.end(new Boom(message, { statusCode: code }));
  }

  emit<T extends keyof BaileysEventMap>(event: T, data: BaileysEventMap[T]): void {
    this.ev.emit(event, data);
  }

  async sendMessage(jid: string, content: OutgoingContent, options: OutgoingOptions): Promise<WAMessage | undefined> {
    const call: SendCall = { jid, content, messageId: options.messageId, ...(options.quoted ? { quoted: options.quoted } : {}), at: this.now() };
    this.sent.push(call);
    if (this.send) return this.send(call);
    return loadBaileys().generateWAMessageFromContent(jid, protoOf(content), {
      userJid: this.user!.id,
      messageId: options.messageId,
      ...(options.quoted ? { quoted: options.quoted } : {}),
    });
  }

  async relayMessage(jid: string, message: ProtoMessage, options: { readonly messageId: string }): Promise<string> {
    this.relayed.push({ jid, message, messageId: options.messageId, at: this.now() });
    return this.relay ? this.relay(jid, message, options.messageId) : options.messageId;
  }

  async readMessages(keys: WAMessageKey[]): Promise<void> {
    this.reads.push(keys);
    if (this.read) await this.read(keys);
  }

  async updateMediaMessage(message: WAMessage): Promise<WAMessage> {
    this.reuploads.push(message);
    if (!this.reupload) throw new Error('no re-upload scripted');
    return this.reupload(message);
  }

  async onWhatsApp(...phones: string[]): Promise<readonly { jid: string; exists: boolean }[] | undefined> {
    this.lookups.push(...phones);
    return this.lookup(phones[0]!);
  }

  async sendPresenceUpdate(type: 'composing' | 'paused', jid: string): Promise<void> {
    this.presence.push({ type, jid, at: this.now() });
  }

  async groupFetchAllParticipating(): Promise<Record<string, GroupMetadata>> {
    this.groupFetches++;
    return this.groups;
  }

  /** As Baileys does: the phone becomes `me` (not yet confirmed) and the code is returned. */
  async requestPairingCode(phone: string): Promise<string> {
    this.pairingRequests.push(phone);
    const me = { id: `${phone}@s.whatsapp.net`, name: '~' };
    this.options.auth.creds.me = me;
    this.emit('creds.update', { me });
    return 'ABCD1234';
  }

  async logout(): Promise<void> {
    this.loggedOut = true;
    await this.end(new Boom('Intentional Logout', { statusCode: 401 }));
  }

  /** As Baileys' `end`: one close event carrying the error, then the emitter is torn down. */
  async end(error: Error | undefined): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    this.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date(this.now()) } });
    this.ev.removeAllListeners('connection.update');
    this.ev.destroy();
  }
}

/** Every socket a connection opened, in order. */
export class FakeSockets {
  readonly sockets: FakeSocket[] = [];

  constructor(private readonly now: () => number) {}

  readonly make: SocketFactory = (options) => {
    const socket = new FakeSocket(options, this.now);
    this.sockets.push(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }
}

function protoOf(content: OutgoingContent): ProtoMessage {
  if ('text' in content) return { extendedTextMessage: { text: content.text } };
  if ('image' in content) return { imageMessage: { mimetype: content.mimetype, fileLength: content.image.length } };
  if ('video' in content) return { videoMessage: { mimetype: content.mimetype, fileLength: content.video.length } };
  if ('audio' in content) return { audioMessage: { mimetype: content.mimetype, fileLength: content.audio.length, ptt: false } };
  return { documentMessage: { mimetype: content.mimetype, fileName: content.fileName, fileLength: content.document.length } };
}
