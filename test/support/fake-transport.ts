import { EventEmitter } from 'node:events';
import type { AccountState } from '../../shared/model';
import type { IncomingMessage, MessageReference, OutgoingMedia, PhoneLookup, SendOptions, StatusUpdate, Transport } from '../../shared/transport/types';

export interface SentRecord {
  readonly messageId: string;
  readonly jid: string;
  readonly text?: string;
  readonly media?: OutgoingMedia;
  /** The received message it replied to, when sent with one. */
  readonly quoted?: MessageReference;
  readonly at: number;
}

/**
 * A transport for unit tests: records sends with their times and fails on demand. The real proof of the
 * Baileys connection is in its contract tests; this one only exercises the dispatcher's decisions.
 */
export class FakeTransport implements Transport {
  state: AccountState = 'open';
  readonly phone = '15105566777';
  readonly sent: SentRecord[] = [];
  readonly notOnWhatsApp = new Set<string>();
  /** Called before each send; throw from it to make that send fail. */
  beforeSend: (messageId: string) => void = () => undefined;
  /** A provider that assigns its own ids (as the Cloud API does) answers each send with this id. */
  providerIdFor: ((messageId: string) => string) | undefined;
  /** Received messages marked read, in order. */
  readonly read: MessageReference[] = [];
  /** The media bytes `downloadMedia` answers with. */
  mediaBytes: Buffer = Buffer.from('media');
  private readonly events = new EventEmitter();

  isReady(): boolean {
    return this.state === 'open';
  }

  setState(state: AccountState): void {
    this.state = state;
    this.events.emit('state', state);
  }

  async resolvePhone(digits: string): Promise<PhoneLookup> {
    return this.notOnWhatsApp.has(digits) ? { onWhatsApp: false } : { onWhatsApp: true, jid: `${digits}@s.whatsapp.net` };
  }

  async sendText(jid: string, text: string, messageId: string, options?: SendOptions): Promise<string | void> {
    this.beforeSend(messageId);
    this.sent.push({ messageId, jid, text, ...(options?.quoted ? { quoted: options.quoted } : {}), at: performance.now() });
    return this.providerIdFor?.(messageId);
  }

  async sendMedia(jid: string, media: OutgoingMedia, messageId: string, options?: SendOptions): Promise<string | void> {
    this.beforeSend(messageId);
    this.sent.push({ messageId, jid, media, ...(options?.quoted ? { quoted: options.quoted } : {}), at: performance.now() });
    return this.providerIdFor?.(messageId);
  }

  /** A message reaching the account, as a transport reports it. */
  receive(message: IncomingMessage): void {
    this.events.emit('incoming', message);
  }

  onIncoming(listener: (message: IncomingMessage) => void): () => void {
    this.events.on('incoming', listener);
    return () => this.events.off('incoming', listener);
  }

  async markRead(messages: readonly MessageReference[]): Promise<void> {
    this.read.push(...messages);
  }

  async downloadMedia(): Promise<Buffer> {
    return this.mediaBytes;
  }

  emitStatus(update: StatusUpdate): void {
    this.events.emit('status', update);
  }

  onStatus(listener: (update: StatusUpdate) => void): () => void {
    this.events.on('status', listener);
    return () => this.events.off('status', listener);
  }

  onStateChange(listener: (state: AccountState) => void): () => void {
    this.events.on('state', listener);
    return () => this.events.off('state', listener);
  }

  /** The connection closed on its own with this code (null: none), as a real transport reports it. */
  disconnect(code: number | null): void {
    this.events.emit('disconnect', code);
  }

  onDisconnect(listener: (code: number | null) => void): () => void {
    this.events.on('disconnect', listener);
    return () => this.events.off('disconnect', listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
  }
}

/** Resolves when `predicate` holds, polling every few milliseconds; fails after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
