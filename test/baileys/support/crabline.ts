import { join } from 'node:path';
import type { StartedWhatsAppServer, StartWhatsAppServerParams } from '@openclaw/crabline' with { 'resolution-mode': 'import' };

/** crabline exports only `import`; require() of its ESM entry file works on Node ≥ 22.12 (and in Jest with vm modules). */
const CRABLINE_ENTRY = join(__dirname, '../../../node_modules/@openclaw/crabline/dist/src/index.js');

interface RecordedEvent {
  readonly accepted?: boolean;
  readonly method: string;
  readonly body?: unknown;
}

/**
 * A message crabline decrypted and recorded as sent by our socket. crabline keeps only its text, read
 * from `conversation` or `extendedTextMessage.text`, and records it as `conversation` either way: a
 * reply's contextInfo (the quote) is decrypted but not recorded.
 */
export interface AcceptedMessage {
  readonly key: { readonly id: string; readonly remoteJid: string; readonly fromMe: boolean };
  readonly message: { readonly conversation: string };
}

export type InboundMessage =
  | { readonly from: string; readonly pushName: string; readonly text: string }
  | { readonly from: string; readonly pushName: string; readonly audio: { readonly bytes: Buffer; readonly mimetype: string; readonly ptt: boolean } };

/** What crabline did with an injected message, and the id and time (seconds) it gave it. */
export interface Injected {
  readonly delivery: 'delivered' | 'queued';
  readonly id: string;
  readonly sentAt: number;
}

/** The stanza Baileys sent over the WebSocket, as crabline recorded it. */
export interface RecordedNode {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly content?: readonly RecordedNode[] | unknown;
}

/**
 * crabline's local WhatsApp Web server on 127.0.0.1: completes Baileys' handshake, decrypts and
 * records 1:1 text sends, injects inbound messages. No internet.
 */
export class Crabline {
  readonly events: RecordedEvent[] = [];

  private constructor(private readonly server: StartedWhatsAppServer) {}

  static async start(recorderPath: string, selfJid: string): Promise<Crabline> {
    const { startWhatsAppServer } = require(CRABLINE_ENTRY) as {
      startWhatsAppServer(params: StartWhatsAppServerParams): Promise<StartedWhatsAppServer>;
    };
    let crabline: Crabline | undefined;
    const pending: RecordedEvent[] = [];
    const server = await startWhatsAppServer({
      host: '127.0.0.1',
      recorderPath,
      selfJid,
      onEvent: (event) => {
        (crabline?.events ?? pending).push(event as RecordedEvent);
      },
    });
    crabline = new Crabline(server);
    crabline.events.push(...pending);
    return crabline;
  }

  get webSocketUrl(): string {
    return this.server.manifest.endpoints.baileysWebSocketUrl;
  }

  /** Messages our socket sent that the server decrypted, in order. */
  accepted(): AcceptedMessage[] {
    return this.events
      .filter((event) => event.accepted === true && event.method === 'WEBSOCKET')
      .map((event) => event.body as AcceptedMessage)
      .filter((body) => typeof body?.message?.conversation === 'string');
  }

  /** Every stanza our socket sent. */
  nodes(): RecordedNode[] {
    return this.events.filter((event) => event.method === 'WEBSOCKET' && event.accepted === undefined).map((event) => event.body as RecordedNode);
  }

  /**
   * A message from a contact to the account, delivered to the connected socket (or queued until one
   * connects): a text, or a voice note / audio file whose bytes crabline encrypts and serves as
   * WhatsApp's media servers do.
   */
  async inject(message: InboundMessage): Promise<Injected> {
    const response = await fetch(this.server.manifest.endpoints.adminInboundUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-crabline-admin-token': this.server.manifest.adminToken },
      body: JSON.stringify({
        chatJid: message.from,
        senderJid: message.from,
        pushName: message.pushName,
        ...('text' in message
          ? { text: message.text }
          : { audio: { contentBase64: message.audio.bytes.toString('base64'), mimeType: message.audio.mimetype, ptt: message.audio.ptt } }),
      }),
    });
    const body = (await response.json()) as { ok?: boolean; delivery?: 'delivered' | 'queued'; message?: { key: { id: string }; messageTimestamp: number } };
    if (!response.ok || !body.ok) throw new Error(`crabline refused the inbound message: ${JSON.stringify(body)}`);
    return { delivery: body.delivery!, id: body.message!.key.id, sentAt: body.message!.messageTimestamp };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
