import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudApiSettings } from '../../shared/transport/cloud-api/connection';
import { signBody } from '../../shared/transport/cloud-api/signature';

export interface RecordedGraphRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  /** The JSON body, or the multipart fields (the file as { name, type, size, bytes }). */
  readonly body: unknown;
}

export interface GraphErrorAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface FakeGraphOptions {
  readonly phoneNumberId?: string;
  readonly accessToken?: string;
  readonly appSecret?: string;
  readonly version?: string;
  readonly displayPhoneNumber?: string;
  readonly verifiedName?: string;
}

/** Where the fake posts Meta's status webhooks after each send it accepts: delivered, then read. */
export interface ReceiptPosting {
  readonly url: string;
  /** Before each of the two posts. */
  readonly delayMs?: number;
}

/** A Graph API error body as documented (code, type, error_data.details, fbtrace_id). */
export function graphErrorBody(code: number, message: string, details: string, type = 'OAuthException'): unknown {
  return { error: { message, type, code, error_data: { messaging_product: 'whatsapp', details }, fbtrace_id: 'AbCdEf123' } };
}

const MESSAGE_TYPES = new Set(['text', 'image', 'video', 'audio', 'document']);

/**
 * A local stand-in for the Graph API of one business number: it checks requests as the Cloud API
 * documents them (Bearer token, messaging_product, `to` in digits, the type and its field, multipart
 * uploads), records them, answers with wamids, and answers documented error bodies where told to.
 */
export class FakeGraphApi {
  readonly phoneNumberId: string;
  /** The token it takes; a test may change it (a new token issued). */
  accessToken: string;
  readonly appSecret: string;
  readonly version: string;
  readonly requests: RecordedGraphRequest[] = [];
  /** The wamids answered to sends, in order. */
  readonly wamids: string[] = [];
  /** Recipients (digits) more than 24 hours past their last reply: sends to them answer 131047. */
  readonly outsideWindow = new Set<string>();
  /** Recipients (digits) that cannot receive: 131026. */
  readonly undeliverable = new Set<string>();
  /** Answers given to the next requests instead of the normal one, first first. */
  readonly nextErrors: GraphErrorAnswer[] = [];
  /** When set, every request answers 190 (token expired), as the Graph API does. */
  tokenExpired = false;
  /** When set, each accepted send is followed by signed `delivered` and `read` webhooks to this URL. */
  receipts: ReceiptPosting | undefined;
  /** The statuses of those posts, in order (200 when our webhook took them). */
  readonly receiptAnswers: number[] = [];
  /** Received files the media endpoint serves, by media id. */
  readonly media = new Map<string, { readonly bytes: Buffer; readonly mimetype: string }>();
  /** Messages marked read (their wamids). */
  readonly markedRead: string[] = [];
  private readonly posting = new Set<Promise<void>>();
  private server: Server | undefined;
  private count = 0;

  constructor(private readonly options: FakeGraphOptions = {}) {
    this.phoneNumberId = options.phoneNumberId ?? '106540352242922';
    this.accessToken = options.accessToken ?? 'EAAtest-token';
    this.appSecret = options.appSecret ?? 'app-secret-for-tests';
    this.version = options.version ?? '21.0';
  }

  baseUrl = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    await Promise.all(this.posting);
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** A Cloud API number's settings pointing at this fake, as an engine's credentials would give them. */
  settings(verifyToken = 'verify-me'): CloudApiSettings {
    return { phoneNumberId: this.phoneNumberId, accessToken: this.accessToken, appSecret: this.appSecret, verifyToken, graphBaseUrl: this.baseUrl, graphVersion: this.version };
  }

  /** The sends recorded (POSTs to /messages), their JSON bodies. */
  get sends(): Record<string, unknown>[] {
    return this.requests.filter((request) => request.path.endsWith('/messages')).map((request) => request.body as Record<string, unknown>);
  }

  /** A status webhook body for one of our sends, signed as Meta signs it. */
  statusWebhook(wamid: string, status: 'sent' | 'delivered' | 'read' | 'failed', recipient: string, errors?: readonly unknown[]): { body: string; signature: string } {
    const value = {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550100000', phone_number_id: this.phoneNumberId },
      statuses: [
        {
          id: wamid,
          status,
          timestamp: String(Math.floor(Date.now() / 1000)),
          recipient_id: recipient,
          ...(errors ? { errors } : {}),
        },
      ],
    };
    return this.signed({ object: 'whatsapp_business_account', entry: [{ id: 'WABA_ID', changes: [{ value, field: 'messages' }] }] });
  }

  /** Any webhook body, signed with the app secret. */
  signed(payload: unknown): { body: string; signature: string } {
    const body = JSON.stringify(payload);
    return { body, signature: signBody(body, this.appSecret) };
  }

  /** POSTs a signed body to a webhook URL, as Meta does; answers the status. */
  async postTo(url: string, signed: { body: string; signature: string }): Promise<number> {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signed.signature }, body: signed.body });
    await response.arrayBuffer();
    return response.status;
  }

  /** Resolves once every receipt posted so far has been answered. */
  async receiptsPosted(): Promise<void> {
    while (this.posting.size > 0) await Promise.all(this.posting);
  }

  private postReceipts(wamid: string, to: string, receipts: ReceiptPosting): void {
    const posting = (async () => {
      for (const status of ['delivered', 'read'] as const) {
        await new Promise((resolve) => setTimeout(resolve, receipts.delayMs ?? 50));
        this.receiptAnswers.push(await this.postTo(receipts.url, this.statusWebhook(wamid, status, to)).catch(() => 0));
      }
    })();
    this.posting.add(posting);
    void posting.finally(() => this.posting.delete(posting));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(request.url ?? '/', 'http://fake');
    const contentType = request.headers['content-type'];
    let body: unknown = null;
    try {
      body = await this.parse(raw, contentType);
    } catch {
      body = { unparsable: raw.toString('utf8') };
    }
    this.requests.push({ method: request.method ?? '', path: url.pathname, query: url.searchParams, authorization: request.headers.authorization, contentType, body });
    const answer = (status: number, payload: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(payload));
    };
    if (request.headers.authorization !== `Bearer ${this.accessToken}` || this.tokenExpired) {
      answer(401, graphErrorBody(190, 'Error validating access token: Session has expired.', 'The access token has expired.'));
      return;
    }
    const queued = this.nextErrors.shift();
    if (queued) {
      answer(queued.status, queued.body);
      return;
    }
    const prefix = `/v${this.version}/${this.phoneNumberId}`;
    if (request.method === 'GET' && url.pathname === prefix) {
      answer(200, {
        display_phone_number: this.options.displayPhoneNumber ?? '+1 555-010-0000',
        verified_name: this.options.verifiedName ?? 'Test Shop',
        id: this.phoneNumberId,
      });
      return;
    }
    if (request.method === 'POST' && url.pathname === `${prefix}/media`) {
      const fields = body as Record<string, unknown>;
      const file = fields['file'] as { size?: number } | undefined;
      if (fields['messaging_product'] !== 'whatsapp' || typeof fields['type'] !== 'string' || !file || !file.size) {
        answer(400, graphErrorBody(100, '(#100) Invalid parameter', 'Param file, type and messaging_product are required'));
        return;
      }
      answer(200, { id: `media.${++this.count}` });
      return;
    }
    if (request.method === 'GET' && url.pathname === '/media-download') {
      const file = this.media.get(url.searchParams.get('id') ?? '');
      if (!file) {
        answer(404, graphErrorBody(100, 'Unknown media', 'no such media'));
        return;
      }
      response.writeHead(200, { 'content-type': file.mimetype });
      response.end(file.bytes);
      return;
    }
    const mediaId = url.pathname.startsWith(`/v${this.version}/`) ? decodeURIComponent(url.pathname.slice(`/v${this.version}/`.length)) : '';
    if (request.method === 'GET' && this.media.has(mediaId)) {
      const file = this.media.get(mediaId)!;
      answer(200, { messaging_product: 'whatsapp', url: `${this.baseUrl}/media-download?id=${encodeURIComponent(mediaId)}`, mime_type: file.mimetype, file_size: file.bytes.length, id: mediaId });
      return;
    }
    if (request.method === 'POST' && url.pathname === `${prefix}/messages` && (body as { status?: unknown } | null)?.status === 'read') {
      const read = body as { messaging_product?: unknown; message_id?: unknown };
      if (read.messaging_product !== 'whatsapp' || typeof read.message_id !== 'string') {
        answer(400, graphErrorBody(100, '(#100) Invalid parameter', 'Param message_id is required'));
        return;
      }
      this.markedRead.push(read.message_id);
      answer(200, { success: true });
      return;
    }
    if (request.method === 'POST' && url.pathname === `${prefix}/messages`) {
      const problem = this.checkMessage(body, contentType);
      if (problem) {
        answer(400, graphErrorBody(100, '(#100) Invalid parameter', problem));
        return;
      }
      const to = (body as { to: string }).to;
      if (this.outsideWindow.has(to)) {
        answer(400, graphErrorBody(131047, 'Re-engagement message', 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.'));
        return;
      }
      if (this.undeliverable.has(to)) {
        answer(400, graphErrorBody(131026, 'Message Undeliverable.', 'Message Undeliverable.'));
        return;
      }
      const wamid = `wamid.HBgL${to}${String(++this.count).padStart(4, '0')}`;
      this.wamids.push(wamid);
      answer(200, { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to }], messages: [{ id: wamid }] });
      if (this.receipts) this.postReceipts(wamid, to, this.receipts);
      return;
    }
    answer(400, graphErrorBody(100, 'Unsupported request', `Unsupported ${request.method} request to ${url.pathname}`, 'GraphMethodException'));
  }

  private checkMessage(body: unknown, contentType: string | undefined): string | null {
    if (!contentType?.startsWith('application/json')) return 'the body must be JSON';
    const message = body as Record<string, unknown> | null;
    if (!message || typeof message !== 'object') return 'the body must be an object';
    if (message['messaging_product'] !== 'whatsapp') return 'Param messaging_product must be whatsapp';
    if (message['recipient_type'] !== undefined && message['recipient_type'] !== 'individual') return 'Param recipient_type must be individual';
    if (typeof message['to'] !== 'string' || !/^\d{6,15}$/.test(message['to'])) return 'Param to must be the phone number in digits';
    const type = message['type'];
    if (typeof type !== 'string' || !MESSAGE_TYPES.has(type)) return 'Param type is not a supported type';
    const part = message[type] as Record<string, unknown> | undefined;
    if (!part || typeof part !== 'object') return `Param ${type} is required`;
    if (type === 'text' && typeof part['body'] !== 'string') return 'Param text[body] is required';
    if (type !== 'text' && typeof part['id'] !== 'string' && typeof part['link'] !== 'string') return `Param ${type}[id] is required`;
    if (type !== 'document' && part['filename'] !== undefined) return `Param ${type}[filename] is not supported`;
    const context = message['context'] as Record<string, unknown> | undefined;
    if (context !== undefined && typeof context['message_id'] !== 'string') return 'Param context[message_id] is required';
    return null;
  }

  private async parse(raw: Buffer, contentType: string | undefined): Promise<unknown> {
    if (!contentType) return raw.length ? raw.toString('utf8') : null;
    if (contentType.startsWith('application/json')) return JSON.parse(raw.toString('utf8'));
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
      const fields: Record<string, unknown> = {};
      const entries: [string, string | File][] = [];
      form.forEach((value, name) => entries.push([name, value]));
      for (const [name, value] of entries) {
        if (typeof value === 'string') fields[name] = value;
        else fields[name] = { name: value.name, type: value.type, size: value.size, bytes: Buffer.from(await value.arrayBuffer()) };
      }
      return fields;
    }
    return raw.toString('utf8');
  }
}
