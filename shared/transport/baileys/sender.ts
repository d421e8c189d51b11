import type { AccountState } from '../../model';
import { CallTimeoutError, delay, type Clock } from '../../time/clock';
import { TransportError, type OutgoingMedia, type PhoneLookup } from '../types';
import { disconnectCode, type BaileysSocket, type OutgoingContent } from './baileys-module';
import type { TypingPolicy } from './connection-options';
import { PhoneCache, type PhoneCacheOptions } from './phone-cache';
import type { SentMessages } from './sent-messages';
import { describe } from './words';

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

  async sendText(jid: string, text: string, messageId: string): Promise<void> {
    const socket = this.socket.ready();
    await this.showTyping(socket, jid, text.length);
    await this.send(socket, jid, { text, linkPreview: null }, messageId);
  }

  async sendMedia(jid: string, media: OutgoingMedia, messageId: string): Promise<void> {
    const socket = this.socket.ready();
    await this.send(socket, jid, mediaContent(media), messageId);
  }

  private async send(socket: BaileysSocket, jid: string, content: OutgoingContent, messageId: string): Promise<void> {
    if (!SENDABLE_JID.test(jid)) throw new TransportError('permanent', `${jid} is not a WhatsApp address this account can send to.`);
    this.deps.sent.starting(messageId);
    try {
      const sent = await this.deps.call(socket.sendMessage(jid, content, { messageId }), 'sending the message');
      if (sent?.message) this.deps.sent.remember(messageId, sent.message);
    } catch (error) {
      throw this.callError(error, 'sending');
    }
  }

  /** Why a socket call failed, as the dispatcher handles it. */
  private callError(error: unknown, doing: string): TransportError {
    if (error instanceof TransportError) return error;
    if (error instanceof CallTimeoutError) {
      return new TransportError('transient', `WhatsApp did not answer ${doing === 'sending' ? 'the send' : 'the number lookup'} in time; it will be tried again with the same id.`);
    }
    const code = disconnectCode(error);
    // Closed under our feet (428), or Baileys not logged in yet (TypeError): the message goes back
    // untouched, and the state moves at once so the dispatcher waits for the reconnect.
    if (code === 428 || code === 408 || error instanceof TypeError || this.socket.state !== 'open') {
      this.socket.dropped(error);
      return new TransportError('unavailable', `The connection to WhatsApp dropped while ${doing}; it resumes after the reconnect.`);
    }
    return new TransportError('transient', `WhatsApp failed while ${doing}: ${describe(error)}`);
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
