import type { MediaKind } from '../../attachments/types';
import { TransportError } from '../types';
import { graphError, networkError } from './errors';

export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com';
export const DEFAULT_GRAPH_VERSION = '21.0';
export const DEFAULT_GRAPH_TIMEOUT_MS = 30_000;

export interface GraphClientOptions {
  readonly phoneNumberId: string;
  readonly accessToken: string;
  /** Without a trailing slash; tests point it at a fake. */
  readonly baseUrl?: string;
  /** Graph API version, digits as in `v21.0` without the `v`. */
  readonly version?: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** The kinds the Cloud API sends by media id. */
export type CloudMediaKind = 'image' | 'video' | 'audio' | 'document';

export interface SentMessage {
  /** The wamid the Cloud API gave the message. */
  readonly id: string;
}

export interface PhoneNumberInfo {
  readonly displayPhoneNumber: string | null;
  readonly verifiedName: string | null;
}

/** Where our media kinds go in the Cloud API: stickers and voice notes travel as images and audio. */
export function cloudMediaKind(kind: MediaKind | string): CloudMediaKind {
  if (kind === 'image' || kind === 'video' || kind === 'audio' || kind === 'document') return kind;
  if (kind === 'voice') return 'audio';
  if (kind === 'sticker') return 'image';
  return 'document';
}

/**
 * A small client of the Graph API for one business phone number: sends, media uploads and the number's
 * own facts. Every failure is a TransportError (errors.ts) the dispatcher knows how to handle.
 */
export class GraphClient {
  private readonly baseUrl: string;
  private readonly version: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: GraphClientOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
    this.version = (options.version ?? DEFAULT_GRAPH_VERSION).replace(/^v/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_GRAPH_TIMEOUT_MS;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  private url(path: string): string {
    return `${this.baseUrl}/v${this.version}/${encodeURIComponent(this.options.phoneNumberId)}${path}`;
  }

  sendText(to: string, text: string, replyTo?: string): Promise<SentMessage> {
    return this.sendMessage(to, { type: 'text', text: { body: text } }, replyTo);
  }

  sendMedia(to: string, kind: CloudMediaKind, mediaId: string, fileName?: string, replyTo?: string): Promise<SentMessage> {
    const media: Record<string, string> = { id: mediaId };
    if (kind === 'document' && fileName) media['filename'] = fileName;
    return this.sendMessage(to, { type: kind, [kind]: media }, replyTo);
  }

  /** Uploads a file for later sends; answers its media id. */
  async uploadMedia(buffer: Buffer, mimetype: string, fileName: string): Promise<string> {
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', mimetype);
    form.set('file', new Blob([new Uint8Array(buffer)], { type: mimetype }), fileName);
    const answer = (await this.request('POST', this.url('/media'), form)) as { id?: unknown };
    if (typeof answer?.id !== 'string') throw graphError(502, null);
    return answer.id;
  }

  /** Marks a received message read (its sender sees the blue ticks). */
  async markRead(messageId: string): Promise<void> {
    await this.request('POST', this.url('/messages'), JSON.stringify({ messaging_product: 'whatsapp', status: 'read', message_id: messageId }), 'application/json');
  }

  /** A received file's bytes: the media id gives a short-lived URL, fetched with the same token. */
  async downloadMedia(mediaId: string): Promise<Buffer> {
    const info = (await this.request('GET', `${this.baseUrl}/v${this.version}/${encodeURIComponent(mediaId)}`)) as { url?: unknown };
    if (typeof info?.url !== 'string') throw graphError(502, null);
    let response: Response;
    try {
      response = await this.fetch(info.url, { headers: { authorization: `Bearer ${this.options.accessToken}` }, signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) throw graphError(response.status, null);
      return Buffer.from(await response.arrayBuffer());
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw networkError(error);
    }
  }

  /** The number's display number and verified name: answers when the token and number are good. */
  async checkNumber(): Promise<PhoneNumberInfo> {
    const answer = (await this.request('GET', `${this.url('')}?fields=display_phone_number,verified_name`)) as {
      display_phone_number?: unknown;
      verified_name?: unknown;
    };
    return {
      displayPhoneNumber: typeof answer?.display_phone_number === 'string' ? answer.display_phone_number : null,
      verifiedName: typeof answer?.verified_name === 'string' ? answer.verified_name : null,
    };
  }

  private async sendMessage(to: string, content: Record<string, unknown>, replyTo?: string): Promise<SentMessage> {
    const body = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: to.replace(/\D/g, ''),
      ...(replyTo ? { context: { message_id: replyTo } } : {}),
      ...content,
    };
    const answer = (await this.request('POST', this.url('/messages'), JSON.stringify(body), 'application/json')) as {
      messages?: readonly { id?: unknown }[];
    };
    const id = answer?.messages?.[0]?.id;
    if (typeof id !== 'string') throw graphError(502, null);
    return { id };
  }

  private async request(method: string, url: string, body?: string | FormData, contentType?: string): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.accessToken}` };
    if (contentType) headers['content-type'] = contentType;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(this.timeoutMs) });
      text = await response.text();
    } catch (error) {
      throw networkError(error);
    }
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) throw graphError(response.status, parsed);
    return parsed;
  }
}
