import { EventEmitter } from 'node:events';
import type { AccountState } from '../../model';
import { TransportError, type IncomingMessage, type OutgoingMedia, type PhoneLookup, type ProviderMessageId, type SendOptions, type StatusUpdate, type Transport } from '../types';
import { cloudMediaKind, GraphClient } from './graph-client';
import { answerVerification, verifySignature, type VerificationAnswer } from './signature';
import { jidOfDigits, webhookEvents } from './webhook-events';

/** One business phone number of the WhatsApp Cloud API, as its engine's credentials give it. */
export interface CloudApiSettings {
  readonly phoneNumberId: string;
  readonly accessToken: string;
  /** Signs webhook POSTs (X-Hub-Signature-256). */
  readonly appSecret: string;
  /** What the webhook's GET verification must carry as hub.verify_token. */
  readonly verifyToken: string;
  readonly graphBaseUrl?: string;
  readonly graphVersion?: string;
}

export interface CloudApiConnectionOptions {
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  /** How long after a check of the number that got no answer it is tried again. */
  readonly checkRetryMs?: number;
  readonly now?: () => number;
}

export type WebhookAcceptance =
  | { readonly ok: true; readonly statuses: number; readonly messages: number }
  | { readonly ok: false; readonly reason: string };

export const NO_SETTINGS_SENTENCE = 'No WhatsApp Cloud API credentials are set for this account.';
const DEFAULT_CHECK_RETRY_MS = 30_000;

/**
 * An account on the WhatsApp Cloud API: sends through the Graph API, hears receipts and messages through
 * the webhook its host verifies and hands to `acceptWebhook`. `connecting` until the number's check
 * answers, then `open`; a refused token pauses it with the sentence (messages wait, they do not fail).
 */
export class CloudApiConnection implements Transport {
  state: AccountState = 'connecting';
  phone: string | null;
  name: string | null = null;
  private detail: string | null = null;
  private readonly client: GraphClient | null;
  private readonly events = new EventEmitter();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(
    readonly accountId: string,
    phone: string | null,
    private readonly settings: CloudApiSettings | undefined,
    private readonly options: CloudApiConnectionOptions = {},
  ) {
    this.phone = phone;
    this.now = options.now ?? Date.now;
    this.client = settings
      ? new GraphClient({
          phoneNumberId: settings.phoneNumberId,
          accessToken: settings.accessToken,
          ...(settings.graphBaseUrl ? { baseUrl: settings.graphBaseUrl } : {}),
          ...(settings.graphVersion ? { version: settings.graphVersion } : {}),
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.fetch ? { fetch: options.fetch } : {}),
        })
      : null;
    if (!settings) {
      this.state = 'paused';
      this.detail = NO_SETTINGS_SENTENCE;
    }
  }

  async start(): Promise<void> {
    await this.check();
  }

  isReady(): boolean {
    return this.state === 'open';
  }

  /** The Cloud API has no lookup: every number is taken, and one that cannot receive fails at the send (131026). */
  async resolvePhone(digits: string): Promise<PhoneLookup> {
    return { onWhatsApp: true, jid: jidOfDigits(digits) };
  }

  async sendText(jid: string, text: string, _messageId: string, options?: SendOptions): Promise<ProviderMessageId> {
    const client = this.ready();
    return (await this.guard(() => client.sendText(digitsOf(jid), text, options?.quoted?.id))).id;
  }

  async sendMedia(jid: string, media: OutgoingMedia, _messageId: string, options?: SendOptions): Promise<ProviderMessageId> {
    const client = this.ready();
    const mediaId = await this.guard(() => client.uploadMedia(media.buffer, media.mimetype, media.fileName));
    const kind = cloudMediaKind(media.kind);
    return (await this.guard(() => client.sendMedia(digitsOf(jid), kind, mediaId, media.fileName, options?.quoted?.id))).id;
  }

  /**
   * A webhook POST as the host received it: the raw bytes and the X-Hub-Signature-256 header. Refused
   * unless signed with the app secret; else its receipts go to onStatus and its messages to onIncoming.
   */
  acceptWebhook(rawBody: Buffer | string, signatureHeader: string | null | undefined): WebhookAcceptance {
    if (!this.settings) return { ok: false, reason: NO_SETTINGS_SENTENCE };
    const signature = verifySignature(rawBody, signatureHeader, this.settings.appSecret);
    if (!signature.ok) return signature;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody);
    } catch {
      return { ok: false, reason: 'the body is not JSON' };
    }
    const { statuses, messages } = webhookEvents(body, this.settings.phoneNumberId, this.now);
    for (const update of statuses) this.events.emit('status', update);
    for (const message of messages) this.events.emit('incoming', message);
    return { ok: true, statuses: statuses.length, messages: messages.length };
  }

  /** The webhook's GET verification, against this account's verify token. */
  answerVerification(query: URLSearchParams | Readonly<Record<string, string | undefined>>): VerificationAnswer {
    if (!this.settings) return { ok: false, reason: NO_SETTINGS_SENTENCE };
    return answerVerification(query, this.settings.verifyToken);
  }

  onStatus(listener: (update: StatusUpdate) => void): () => void {
    this.events.on('status', listener);
    return () => this.events.off('status', listener);
  }

  onIncoming(listener: (message: IncomingMessage) => void): () => void {
    this.events.on('incoming', listener);
    return () => this.events.off('incoming', listener);
  }

  onStateChange(listener: (state: AccountState) => void): () => void {
    this.events.on('state', listener);
    return () => this.events.off('state', listener);
  }

  connectionInfo(): { readonly detail: string | null; readonly pausedUntil: number | null; readonly pauseReason: string | null } {
    return { detail: this.detail, pausedUntil: null, pauseReason: this.state === 'paused' ? this.detail : null };
  }

  /** Checks the number again now (after a new token was set, or to skip the wait). */
  reconnect(): void {
    void this.check();
  }

  resume(): void {
    this.reconnect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.events.removeAllListeners();
  }

  private ready(): GraphClient {
    if (!this.client) throw new TransportError('unavailable', NO_SETTINGS_SENTENCE);
    return this.client;
  }

  /** A refused token pauses the account, so that the next messages wait instead of failing one by one. */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof TransportError && error.kind === 'unavailable') this.setState('paused', error.reason);
      throw error;
    }
  }

  private async check(): Promise<void> {
    if (!this.client || this.closed) return;
    clearTimeout(this.retryTimer);
    try {
      const info = await this.client.checkNumber();
      if (this.closed) return;
      const digits = info.displayPhoneNumber?.replace(/\D/g, '') ?? '';
      if (digits) this.phone = digits;
      if (info.verifiedName) this.name = info.verifiedName;
      this.setState('open', null);
    } catch (error) {
      if (this.closed) return;
      const failure = error instanceof TransportError ? error : new TransportError('transient', String(error));
      if (failure.kind === 'transient') {
        this.setState('connecting', failure.reason);
        this.retryTimer = setTimeout(() => void this.check(), this.options.checkRetryMs ?? DEFAULT_CHECK_RETRY_MS);
        this.retryTimer.unref?.();
      } else {
        this.setState('paused', failure.reason);
      }
    }
  }

  private setState(state: AccountState, detail: string | null): void {
    const changed = state !== this.state || detail !== this.detail;
    this.state = state;
    this.detail = detail;
    if (changed) this.events.emit('state', state);
  }
}

function digitsOf(jid: string): string {
  return (jid.split('@')[0] ?? jid).replace(/\D/g, '');
}
