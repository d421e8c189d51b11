import type { AccountState } from '../../model';
import type { IncomingMessage, MessageReference, OutgoingMedia, PhoneLookup, SendOptions, StatusUpdate, Transport } from '../types';
import { ConnectedSession } from './connected-session';
import type { BaileysConnectionDeps, BaileysConnectionOptions } from './connection-options';
import type { LinkedIdentity, LinkSource } from '../linking';
import { LinkingSession } from './linking-session';
import { Receiver } from './receiver';
import { Sender } from './sender';
import { SessionContext, type Session } from './session-context';

export { DEFAULT_TYPING, type BaileysConnectionDeps, type BaileysConnectionOptions, type TypingPolicy } from './connection-options';

/** `connect`: a linked account; `link`: link a new phone by QR, or by pairing code for `pairingPhone`. */
export type ConnectionMode = { readonly kind: 'connect' } | { readonly kind: 'link'; readonly pairingPhone?: string };

/** An account's connection as the workspace reports it. */
export interface ConnectionInfo {
  readonly state: AccountState;
  readonly phone: string | null;
  readonly name: string | null;
  /** A sentence about the state: why it is paused, logged out, replaced or reconnecting. */
  readonly detail: string | null;
  readonly pausedUntil: number | null;
  /** Why sending is paused (a sentence), while a pause holds; null otherwise. */
  readonly pauseReason: string | null;
  readonly connectedAt: number | null;
}

/**
 * One WhatsApp account over Baileys: the core's Transport, and a LinkSource while linking. The mode
 * picks the state machine once (LinkingSession until a new phone confirms, ConnectedSession to keep a
 * linked one connected for months); this class only hands the calls to it.
 */
export class BaileysConnection implements Transport, LinkSource {
  readonly outcome: Promise<LinkedIdentity>;
  private readonly context: SessionContext;
  private readonly session: Session;
  private readonly sender: Sender;
  private readonly receiver: Receiver;

  constructor(options: BaileysConnectionOptions, deps: BaileysConnectionDeps, mode: ConnectionMode = { kind: 'connect' }) {
    const context = new SessionContext(options, deps);
    this.context = context;
    this.session = mode.kind === 'link' ? new LinkingSession(context, mode.pairingPhone) : new ConnectedSession(context);
    this.sender = new Sender(this.session, {
      call: (work, what) => context.call(work, what),
      clock: context.clock,
      typing: context.settings.typing,
      phoneCache: context.settings.phoneCache,
      sent: context.sent,
      stopping: context.stopping.signal,
    });
    this.receiver = new Receiver(this.session, {
      call: (work, what) => context.call(work, what),
      clock: context.clock,
      logger: context.settings.logger,
      downloadTimeoutMs: context.settings.mediaDownloadTimeoutMs,
    });
    this.outcome = this.session.outcome;
    // Only a link has an outcome; nobody need listen to it otherwise.
    this.outcome.catch(() => undefined);
  }

  // ---- Transport ------------------------------------------------------------------------------------

  get state(): AccountState {
    return this.session.state;
  }

  get phone(): string | null {
    return this.context.facts.phone;
  }

  get name(): string | null {
    return this.context.facts.name;
  }

  isReady(): boolean {
    return this.session.state === 'open';
  }

  resolvePhone(digits: string): Promise<PhoneLookup> {
    return this.sender.resolvePhone(digits);
  }

  sendText(jid: string, text: string, messageId: string, options?: SendOptions): Promise<void> {
    return this.sender.sendText(jid, text, messageId, options);
  }

  sendMedia(jid: string, media: OutgoingMedia, messageId: string, options?: SendOptions): Promise<void> {
    return this.sender.sendMedia(jid, media, messageId, options);
  }

  onStatus(listener: (update: StatusUpdate) => void): () => void {
    return this.context.listen('status', listener);
  }

  onStateChange(listener: (state: AccountState) => void): () => void {
    return this.context.listen('state', listener);
  }

  /** Each socket close the connection reacts to, with Baileys' disconnect code (a 428, a 515, a 440...). */
  onDisconnect(listener: (code: number | null) => void): () => void {
    return this.context.listen('disconnect', listener);
  }

  /** New messages, normalised; `raw` is JSON-safe and is what markRead's references and downloadMedia take back. */
  onIncoming(listener: (message: IncomingMessage) => void): () => void {
    return this.context.listen('incoming', listener);
  }

  markRead(messages: readonly MessageReference[]): Promise<void> {
    return this.receiver.markRead(messages);
  }

  downloadMedia(raw: unknown): Promise<Buffer> {
    return this.receiver.downloadMedia(raw);
  }

  /** Stops for good: timers cleared, socket closed. Queued messages stay queued. */
  close(): Promise<void> {
    return this.session.close();
  }

  // ---- beyond Transport: lifecycle, linking, account information -----------------------------------

  /** Loads the stored auth and opens the first socket. Call once. */
  start(): Promise<void> {
    return this.session.start();
  }

  connectionInfo(): ConnectionInfo {
    const pause = this.context.pauses.current();
    return { state: this.session.state, ...this.context.facts, pausedUntil: pause?.until ?? null, pauseReason: pause?.reason ?? null };
  }

  onQr(listener: (qr: string) => void): () => void {
    return this.context.listen('qr', listener);
  }

  onPairingCode(listener: (code: string) => void): () => void {
    return this.context.listen('pairing-code', listener);
  }

  async cancel(): Promise<void> {
    await this.close();
  }

  /** Takes the account back after another client replaced it (440), or retries at once. */
  reconnect(): void {
    this.session.reconnect();
  }

  /** Lifts every pause now (the owner knows better, e.g. after appealing a restriction). */
  resume(): void {
    this.context.pauses.clear();
  }

  /** Logs the device out on WhatsApp (unlink), then stops. The caller erases the stored auth. */
  logout(): Promise<void> {
    return this.session.logout();
  }

  /** Resolves when directory writes so far are stored (tests, shutdown). */
  directoryFlushed(): Promise<void> {
    return this.context.directory.flushed();
  }
}
