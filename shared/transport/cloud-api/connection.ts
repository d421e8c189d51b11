import { EventEmitter } from 'node:events';
import type { AccountState } from '../../model';
import { TransportError, type MessageReference, type OutgoingMedia, type PhoneLookup, type ProviderMessageId, type SendOptions, type StatusUpdate, type Transport } from '../types';
import { cloudMediaKind, GraphClient } from './graph-client';
import { jidOfDigits } from './webhook-events';

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
}

export const NO_SETTINGS_SENTENCE = 'No WhatsApp Cloud API credentials are set for this account.';
const DEFAULT_CHECK_RETRY_MS = 30_000;

/**
 * An account on the WhatsApp Cloud API: sends through the Graph API (receipts and messages come through
 * the webhook, see CloudApiIntake). `connecting` until the number's check
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

  constructor(
    readonly accountId: string,
    phone: string | null,
    settings: CloudApiSettings | undefined,
    private readonly options: CloudApiConnectionOptions = {},
  ) {
    this.phone = phone;
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
   * Receipts and received messages come through Meta's webhook, which any process of the workspace may
   * serve: the workspace takes them there (CloudApiIntake), not through this connection.
   */
  onStatus(_listener: (update: StatusUpdate) => void): () => void {
    return () => undefined;
  }

  /** Marks received messages read: the Cloud API shows the blue ticks for each. */
  async markRead(messages: readonly MessageReference[]): Promise<void> {
    const client = this.ready();
    for (const message of messages) await this.guard(() => client.markRead(message.id));
  }

  /** The media of a received message (its webhook JSON, kept as raw), by its media id. */
  async downloadMedia(raw: unknown): Promise<Buffer> {
    const client = this.ready();
    const mediaId = mediaIdOf(raw);
    if (!mediaId) throw new TransportError('permanent', 'This received message has no media to download.');
    return this.guard(() => client.downloadMedia(mediaId));
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

/** A webhook message's media id: `image.id`, `document.id` and so on, under the key its `type` names. */
function mediaIdOf(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const message = raw as Record<string, unknown>;
  const part = typeof message['type'] === 'string' ? message[message['type']] : undefined;
  const id = typeof part === 'object' && part !== null ? (part as Record<string, unknown>)['id'] : undefined;
  return typeof id === 'string' && id !== '' ? id : null;
}

function digitsOf(jid: string): string {
  return (jid.split('@')[0] ?? jid).replace(/\D/g, '');
}
