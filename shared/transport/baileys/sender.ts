import type { AccountState } from '../../model';
import { delay, type Clock } from '../../time/clock';
import { TransportError, type OutgoingMedia, type PhoneLookup, type SendOptions } from '../types';
import type { BaileysSocket, OutgoingContent, OutgoingOptions } from './baileys-module';
import { socketCallError } from './call-errors';
import type { TypingPolicy } from './connection-options';
import { PhoneCache, type PhoneCacheOptions } from './phone-cache';
import { reviveMessage } from './raw-message';
import type { SentMessages } from './sent-messages';

/** The session's socket, as sending needs it. */
export interface SendingSocket {
  readonly state: AccountState;
  /** The open socket; throws TransportError('unavailable') saying why there is none. */
  ready(): BaileysSocket;
  /** A call found the connection closed under it: the session treats the socket as closed now. */
  dropped(error: unknown): void;
}

export interface SenderDeps {
  call<T>(work: Promise<T>, what: string): Promise<T>;
  readonly clock: Clock;
  readonly typing: TypingPolicy | false;
  readonly phoneCache: PhoneCacheOptions;
  readonly sent: SentMessages;
  /** Ends a typing pause early when the connection stops. */
  readonly stopping: AbortSignal;
}

/** The Transport's sending half: texts, files and number lookups over the session's open socket. */
export class Sender {
  private readonly phones: PhoneCache;

  constructor(
    private readonly socket: SendingSocket,
    private readonly deps: SenderDeps,
  ) {
    this.phones = new PhoneCache(deps.phoneCache, () => deps.clock.now());
  }

  async resolvePhone(digits: string): Promise<PhoneLookup> {
    const socket = this.socket.ready();
    try {
      return await this.phones.resolve(digits, async (number) => {
        const found = await this.deps.call(socket.onWhatsApp(number), 'the number lookup');
        // Baileys resolves `undefined` when the query got no answer: a hiccup, not "not on WhatsApp".
        if (found === undefined) throw new TransportError('transient', 'WhatsApp did not answer the number lookup; it will be asked again.');
        const match = found.find((entry) => entry.exists);
        return match ? { onWhatsApp: true, jid: match.jid } : { onWhatsApp: false };
      });
    } catch (error) {
      throw this.callError(error, 'looking up the number');
    }
  }

  async sendText(jid: string, text: string, messageId: string, options: SendOptions = {}): Promise<void> {
    const socket = this.socket.ready();
    const sending = outgoingOptions(messageId, options);
    await this.showTyping(socket, jid, text.length);
    await this.send(socket, jid, { text, linkPreview: null }, sending);
  }

  async sendMedia(jid: string, media: OutgoingMedia, messageId: string, options: SendOptions = {}): Promise<void> {
    const socket = this.socket.ready();
    await this.send(socket, jid, mediaContent(media), outgoingOptions(messageId, options));
  }

  private async send(socket: BaileysSocket, jid: string, content: OutgoingContent, options: OutgoingOptions): Promise<void> {
    if (!SENDABLE_JID.test(jid)) throw new TransportError('permanent', `${jid} is not a WhatsApp address this account can send to.`);
    const { messageId } = options;
    this.deps.sent.starting(messageId);

    try {
      const sent = await this.deps.call(socket.sendMessage(jid, content, options), 'sending the message');
      if (sent?.message) this.deps.sent.remember(messageId, sent.message);
    } catch (error) {
      throw this.callError(error, 'sending');
    }
  }

  /** Why a socket call failed, as the dispatcher handles it. */
  private callError(error: unknown, doing: 'sending' | 'looking up the number'): TransportError {
    const what = doing === 'sending' ? 'the send' : 'the number lookup';
    return socketCallError(error, this.socket, doing, `WhatsApp did not answer ${what} in time; it will be tried again with the same id.`);
  }

  private async showTyping(socket: BaileysSocket, jid: string, length: number): Promise<void> {
    const { deps } = this;
    const typing = deps.typing;
    if (!typing) return;
    const ms = Math.min(typing.maxMs, Math.max(typing.minMs, length * typing.msPerChar));
    // Presence is a courtesy: if it fails, the message still goes.
    await deps.call(socket.sendPresenceUpdate('composing', jid), 'typing presence').catch(() => undefined);
    await delay(ms, deps.clock, deps.stopping);
    await deps.call(socket.sendPresenceUpdate('paused', jid), 'typing presence').catch(() => undefined);
  }
}

/** Contacts, groups and LIDs (normalised, no device suffix); anything else is refused before sending. */
const SENDABLE_JID = /^[0-9]+(-[0-9]+)?@(s\.whatsapp\.net|g\.us|lid)$/;

/** Our id, and the received message to quote as Baileys needs it (revived from what the store kept). */
function outgoingOptions(messageId: string, { quoted }: SendOptions): OutgoingOptions {
  if (!quoted) return { messageId };
  const message = reviveMessage(quoted.raw);
  if (!message) throw new TransportError('permanent', `The message to reply to (${quoted.id}) was not kept in a form WhatsApp can quote.`);
  return { messageId, quoted: message };
}

function mediaContent(media: OutgoingMedia): OutgoingContent {
  switch (media.kind) {
    case 'image':
      return { image: media.buffer, mimetype: media.mimetype };
    case 'video':
      return { video: media.buffer, mimetype: media.mimetype };
    case 'audio':
      return { audio: media.buffer, mimetype: media.mimetype, ptt: false };
    default:
      return { document: media.buffer, mimetype: media.mimetype, fileName: media.fileName };
  }
}
