import { CallTimeoutError, withTimeout, type Clock } from '../../time/clock';
import { TransportError, type MessageReference } from '../types';
import { disconnectCode, loadBaileys, type BaileysSocket, type ILogger, type WAMessage, type WAMessageKey } from './baileys-module';
import { socketCallError } from './call-errors';
import { reviveMessage } from './raw-message';
import type { SendingSocket } from './sender';
import { describe } from './words';

export interface ReceiverDeps {
  call<T>(work: Promise<T>, what: string): Promise<T>;
  readonly clock: Clock;
  readonly logger: ILogger;
  /** A whole media download, re-upload included. */
  readonly downloadTimeoutMs: number;
}

/** Baileys' HTTP errors that mean "the file is gone from WhatsApp's servers; ask the phone again". */
const GONE = [404, 410];

/** The Transport's receiving half: read receipts for received messages, and their media. */
export class Receiver {
  constructor(
    private readonly socket: SendingSocket,
    private readonly deps: ReceiverDeps,
  ) {}

  async markRead(messages: readonly MessageReference[]): Promise<void> {
    if (messages.length === 0) return;
    const socket = this.socket.ready();
    try {
      await this.deps.call(socket.readMessages(messages.map(readKey)), 'marking messages read');
    } catch (error) {
      throw socketCallError(error, this.socket, 'marking messages read', 'WhatsApp did not answer marking the messages read in time.');
    }
  }

  /**
   * The media of a received message. The file is fetched from WhatsApp's media servers and decrypted
   * with the key in the message, which needs no connection; a file the servers no longer have (404,
   * 410) is asked of the sender's phone again (a re-upload), which does.
   */
  async downloadMedia(raw: unknown): Promise<Buffer> {
    const message = reviveMessage(raw);
    if (!message) throw new TransportError('permanent', 'This is not a received WhatsApp message: it has no media to download.');
    const socket = this.openSocket();
    try {
      // Baileys' fetch takes no abort signal: past the timeout the call fails, the transfer ends on its own.
      return await withTimeout(this.download(message, socket), this.deps.downloadTimeoutMs, 'WhatsApp (the media download)', this.deps.clock);
    } catch (error) {
      throw this.downloadError(error, socket);
    }
  }

  /**
   * Baileys' own re-upload (`downloadMediaMessage`'s reuploadRequest) never fires in 7.0.0-rc14: it
   * looks for `error.status`, and its fetch throws a Boom, which has `output.statusCode`. So it is done here.
   */
  private async download(message: WAMessage, socket: BaileysSocket | undefined): Promise<Buffer> {
    const { downloadMediaMessage } = loadBaileys();
    try {
      return await downloadMediaMessage(message, 'buffer', {});
    } catch (error) {
      if (!socket || !GONE.includes(httpStatus(error) ?? 0)) throw error;
      this.deps.logger.info({ key: message.key }, 'media expired on the servers: asking the phone to upload it again');
      const renewed = await this.deps.call(socket.updateMediaMessage(message), 'the media re-upload');
      return await downloadMediaMessage(renewed, 'buffer', {});
    }
  }

  private downloadError(error: unknown, socket: BaileysSocket | undefined): TransportError {
    if (error instanceof TransportError) return error;
    if (error instanceof CallTimeoutError) return new TransportError('transient', 'WhatsApp did not deliver the media in time.');
    if (GONE.includes(httpStatus(error) ?? 0) && !socket) {
      return new TransportError('unavailable', 'The media expired on WhatsApp; it can be asked of the phone again once the account is connected.');
    }
    if (/not a media message|No message present|No valid media URL/i.test(describe(error))) {
      return new TransportError('permanent', `This message has no media to download (${describe(error)}).`);
    }
    return new TransportError('transient', `WhatsApp failed to deliver the media: ${describe(error)}`);
  }

  /** The open socket, or none: a plain download works without one. */
  private openSocket(): BaileysSocket | undefined {
    try {
      return this.socket.ready();
    } catch {
      return undefined;
    }
  }
}

/** The HTTP status of a failed media fetch: Baileys throws a Boom, as for a disconnect. */
const httpStatus = disconnectCode;

/** The key WhatsApp's read receipt names: the chat, the message, and in a group who wrote it. */
function readKey(message: MessageReference): WAMessageKey {
  const inGroup = message.chatJid.endsWith('@g.us');
  return {
    remoteJid: message.chatJid,
    id: message.id,
    fromMe: message.fromMe,
    ...(inGroup && message.senderJid ? { participant: message.senderJid } : {}),
  };
}
