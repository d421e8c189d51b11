import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { AccountState } from '../../shared/model';
import { SqliteStore } from '../../shared/store/sqlite';
import { makeBaileysSocket, type WAMessage } from '../../shared/transport/baileys/baileys-module';
import { BaileysConnection } from '../../shared/transport/baileys/connection';
import type { IncomingMessage, MessageReference } from '../../shared/transport/types';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { Workspace } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { tempDir } from '../support/temp';
import { Crabline } from './support/crabline';
import { MemoryDirectory, primeLinkedAuth } from './support/harness';

// Real Baileys 7 against crabline, a local WhatsApp Web server on 127.0.0.1: handshake, login with
// stored creds, Signal-encrypted sends that the server decrypts, injected inbound messages.
const SELF = '15550000001:0@s.whatsapp.net';
const ACCOUNT = { id: 'wa-15550000001', kind: 'baileys' as const, phone: '15550000001', name: null, createdAt: 1, connectedAt: null, active: true };
const PEER = '15551234567@s.whatsapp.net';
const FAST = { connectTimeoutMs: 5_000, openTimeoutMs: 10_000, callTimeoutMs: 5_000 };

// libsignal (used by Baileys and by crabline) logs every session it rotates straight to the console.
const LIBSIGNAL_CHATTER = /^Closing (open )?session/;
for (const method of ['info', 'warn'] as const) {
  const original = console[method].bind(console);
  beforeAll(() => {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      if (typeof args[0] === 'string' && LIBSIGNAL_CHATTER.test(args[0])) return;
      original(...args);
    });
  });
  afterAll(() => jest.mocked(console[method]).mockRestore());
}

describe('Baileys against crabline (contract)', () => {
  let dir: ReturnType<typeof tempDir>;
  let crabline: Crabline;
  let storePath: string;
  const errors: unknown[] = [];

  beforeEach(async () => {
    dir = tempDir('wahook-crabline-');
    storePath = join(dir.path, 'store.sqlite');
    crabline = await Crabline.start(join(dir.path, 'crabline.jsonl'), SELF);
    errors.length = 0;
  });
  afterEach(async () => {
    await crabline.close();
    dir.cleanup();
  });

  const openWorkspace = () =>
    Workspace.open({
      store: new SqliteStore({ path: storePath }),
      pacing: { gap: { minMs: 1, maxMs: 2 } },
      onError: (error) => errors.push(error),
      baileys: { waWebSocketUrl: crabline.webSocketUrl, ...FAST },
    });

  const send = async (workspace: Workspace, text: string): Promise<string> => {
    const answer = await handleWebhookCall(workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ action: 'send', jid: PEER, text }),
      token: workspace.webhookState().token,
      remoteAddress: '127.0.0.1',
    });
    expect(answer.status).toBe(200);
    return (answer.body as { data: { message_id: string } }).data.message_id.slice('wa_backend:'.length);
  };

  /** What a restart must keep: the device's identity, and the signal keys Baileys wrote while sending. */
  const storedAuth = async (workspace: Workspace) => {
    const creds = JSON.parse((await workspace.store.auth.readCreds(ACCOUNT.id))!) as { me: unknown; registrationId: number; noiseKey: unknown; signedIdentityKey: unknown };
    const keys: Record<string, string[]> = {};
    for (const type of ['session', 'lid-mapping', 'device-list']) keys[type] = [...(await workspace.store.auth.listKeys(ACCOUNT.id, type)).keys()].sort();
    return { identity: [creds.me, creds.registrationId, creds.noiseKey, creds.signedIdentityKey], keys };
  };

  it('connects with stored auth, sends with our id, reconnects after a restart without relinking, and files inbound chats', async () => {
    const setupStore = new SqliteStore({ path: storePath });
    await setupStore.accounts.put(ACCOUNT);
    await primeLinkedAuth(setupStore, ACCOUNT.id, { id: SELF, name: 'Crab Phone' });
    await setupStore.close();

    // 1. Connect with the stored creds; the account record learns the phone and connect time.
    const first = await openWorkspace();
    await until(() => first.connection(ACCOUNT.id)?.state === 'open', 10_000);
    expect(first.accounts()[0]).toMatchObject({ phone: '15550000001', active: true, connectedAt: expect.any(Number) });

    // 2. A webhook send goes out with the id the webhook answered; the server decrypts our text.
    const id = await send(first, 'hello from the contract test');
    await until(async () => (await first.message(id))?.status === 'sent', 10_000);
    await until(() => crabline.accepted().some((message) => message.key.id === id), 10_000);
    expect(crabline.accepted()).toEqual([
      expect.objectContaining({ key: { fromMe: true, id, remoteJid: PEER }, message: { conversation: 'hello from the contract test' } }),
    ]);
    // Baileys wrote the peer's Signal session, LID mapping and device list into our store.
    const before = await storedAuth(first);
    expect(before.keys).toEqual({
      session: ['15550000001_1.0', '15551234567_1.0'],
      'lid-mapping': ['15550000001', '15550000001_reverse', '15551234567', '15551234567_reverse'],
      'device-list': ['15550000001', '15551234567'],
    });

    // 3. An inbound message lands in the chat directory, named by the sender's push name.
    expect((await crabline.inject({ from: PEER, text: 'hi back', pushName: 'Alice Crab' })).delivery).toBe('delivered');
    await until(() => first.directory.findByJid(ACCOUNT.id, PEER)?.name === 'Alice Crab', 10_000);
    const chatId = first.directory.findByJid(ACCOUNT.id, PEER)!.chatId;
    await first.close();

    // 4. Restart: the same store reconnects straight to open with the same identity (no link, no QR),
    //    and the chat keeps its id.
    const second = await openWorkspace();
    const states: (string | null)[] = [];
    second.onAccountChange((connection) => states.push(connection.state));
    await until(() => second.connection(ACCOUNT.id)?.state === 'open', 10_000);
    expect((await storedAuth(second)).identity).toEqual(before.identity);
    expect(second.directory.findByJid(ACCOUNT.id, PEER)?.chatId).toBe(chatId);
    expect(second.directory.findByName('Alice Crab').map((chat) => chat.chatId)).toEqual([chatId]);
    const againAnswer = await handleWebhookCall(second, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ action: 'send', chat_id: chatId, text: 'after the restart' }),
      token: second.webhookState().token,
      remoteAddress: '127.0.0.1',
    });
    expect(againAnswer.status).toBe(200);
    const again = (againAnswer.body as { data: { message_id: string } }).data.message_id.slice('wa_backend:'.length);
    await until(() => crabline.accepted().some((message) => message.key.id === again), 10_000);
    expect(crabline.accepted().map((message) => [message.key.id, message.message.conversation])).toEqual([
      [id, 'hello from the contract test'],
      [again, 'after the restart'],
    ]);
    await until(async () => (await second.message(again))?.status === 'sent', 10_000);
    expect(states).toEqual(['open']);
    await second.close();
    expect(errors).toEqual([]);
  });
});

describe('Received messages through real Baileys against crabline (contract)', () => {
  let dir: ReturnType<typeof tempDir>;
  let crabline: Crabline;
  let store: SqliteStore;
  let connection: BaileysConnection;
  const heard: IncomingMessage[] = [];
  /** What real Baileys' sendMessage built and relayed (crabline records only the text). */
  const relayed: WAMessage[] = [];
  const errors: unknown[] = [];

  beforeEach(async () => {
    dir = tempDir('wahook-crabline-in-');
    crabline = await Crabline.start(join(dir.path, 'crabline.jsonl'), SELF);
    store = new SqliteStore({ path: join(dir.path, 'store.sqlite') });
    await primeLinkedAuth(store, ACCOUNT.id, { id: SELF, name: 'Crab Phone' });
    heard.length = 0;
    relayed.length = 0;
    errors.length = 0;
    connection = new BaileysConnection(
      { waWebSocketUrl: crabline.webSocketUrl, ...FAST },
      {
        accountId: ACCOUNT.id,
        phone: null,
        auth: store.auth,
        directory: new MemoryDirectory(),
        messageText: async () => undefined,
        onError: (error) => errors.push(error),
        makeSocket: (options) => {
          const socket = makeBaileysSocket(options);
          const send = socket.sendMessage.bind(socket);
          socket.sendMessage = async (...args) => {
            const sent = await send(...args);
            if (sent) relayed.push(sent);
            return sent;
          };
          return socket;
        },
      },
    );
    connection.onIncoming((message) => heard.push(message));
    await connection.start();
    await until(() => connection.state === 'open', 10_000);
  });
  afterEach(async () => {
    await connection.close();
    await store.close();
    await crabline.close();
    dir.cleanup();
    expect(errors).toEqual([]);
  });

  /** A received message as the store gives it back for a reply: raw through JSON. */
  const reference = (incoming: IncomingMessage): MessageReference => ({
    id: incoming.id,
    chatJid: incoming.chatJid,
    senderJid: incoming.sender.jid,
    fromMe: incoming.fromMe,
    raw: JSON.parse(JSON.stringify(incoming.raw)) as unknown,
  });

  it('an injected text reaches onIncoming normalised; a reply quoting it goes out as a quote, and crabline decrypts it', async () => {
    const injected = await crabline.inject({ from: PEER, text: 'is the shop open?', pushName: 'Alice Crab' });
    expect(injected.delivery).toBe('delivered');
    await until(() => heard.length === 1, 10_000);
    const { raw: _raw, ...incoming } = heard[0]!;
    expect(incoming).toEqual({
      id: injected.id,
      chatJid: PEER,
      isGroup: false,
      sender: { jid: PEER, phone: '15551234567', lid: null, pushName: 'Alice Crab' },
      fromMe: false,
      at: injected.sentAt * 1000,
      kind: 'text',
      text: 'is the shop open?',
      quoted: null,
      mentions: [],
      media: null,
      reaction: null,
      targetId: null,
      location: null,
      contacts: null,
      poll: null,
    });

    await connection.sendText(PEER, 'yes, until 6', '3EB0C0FFEE000000000000', { quoted: reference(heard[0]!) });
    await until(() => crabline.accepted().some((message) => message.key.id === '3EB0C0FFEE000000000000'), 10_000);
    // crabline decrypted the reply and keeps its text (as `conversation`, whatever the message type).
    expect(crabline.accepted()).toEqual([
      expect.objectContaining({ key: { fromMe: true, id: '3EB0C0FFEE000000000000', remoteJid: PEER }, message: { conversation: 'yes, until 6' } }),
    ]);
    // What Baileys encrypted and relayed: an extended text whose contextInfo quotes the injected message.
    expect(relayed.map((message) => [message.key.id, message.message?.extendedTextMessage?.text])).toEqual([['3EB0C0FFEE000000000000', 'yes, until 6']]);
    expect(relayed[0]!.message!.extendedTextMessage!.contextInfo).toMatchObject({
      stanzaId: injected.id,
      participant: PEER,
      quotedMessage: { conversation: 'is the shop open?' },
    });
  });

  it('an injected voice note: kind voice with its media facts, and downloadMedia gives back its bytes', async () => {
    const bytes = Buffer.from('OggS not really opus, but bytes all the same');
    const injected = await crabline.inject({ from: PEER, pushName: 'Alice Crab', audio: { bytes, mimetype: 'audio/ogg; codecs=opus', ptt: true } });
    await until(() => heard.length === 1, 10_000);
    expect(heard[0]).toMatchObject({
      id: injected.id,
      kind: 'voice',
      text: null,
      media: { mimetype: 'audio/ogg; codecs=opus', size: bytes.length, fileName: null, seconds: null },
    });
    expect(await connection.downloadMedia(reference(heard[0]!).raw)).toEqual(bytes);
  });

  it('markRead sends WhatsApp a read receipt for the message', async () => {
    const injected = await crabline.inject({ from: PEER, text: 'read me', pushName: 'Alice Crab' });
    await until(() => heard.length === 1, 10_000);
    const readReceipts = () => crabline.nodes().filter((node) => node.tag === 'receipt' && node.attrs.type === 'read');
    expect(readReceipts()).toEqual([]);
    await connection.markRead([reference(heard[0]!)]);
    await until(() => readReceipts().length === 1, 10_000);
    expect(readReceipts()[0]!.attrs).toMatchObject({ id: injected.id, to: PEER, type: 'read' });
  });
});

describe('Baileys failure paths on 127.0.0.1', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let connection: BaileysConnection | undefined;

  beforeEach(async () => {
    dir = tempDir('wahook-failure-');
    store = new SqliteStore({ path: join(dir.path, 'store.sqlite') });
    await primeLinkedAuth(store, ACCOUNT.id, { id: SELF });
  });
  afterEach(async () => {
    await connection?.close();
    connection = undefined;
    await store.close();
    dir.cleanup();
  });

  const connect = (url: string, connectTimeoutMs: number) => {
    const states: AccountState[] = [];
    connection = new BaileysConnection(
      { waWebSocketUrl: url, connectTimeoutMs, openTimeoutMs: 10_000, callTimeoutMs: 2_000, backoff: { baseDelayMs: 60_000, maxDelayMs: 60_000 } },
      { accountId: ACCOUNT.id, phone: null, auth: store.auth, directory: new MemoryDirectory(), messageText: async () => undefined },
    );
    connection.onStateChange((state) => states.push(state));
    void connection.start();
    return { connection, states };
  };

  it('a closed local port: reconnecting (408, connection refused) at once, never open', async () => {
    const port = await closedPort();
    const started = Date.now();
    const { connection: c, states } = connect(`ws://127.0.0.1:${port}/ws/chat`, 2_000);
    await until(() => c.state === 'reconnecting', 2_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(states).toEqual(['reconnecting']);
    expect(c.connectionInfo().detail).toMatch(/^The connection to WhatsApp was lost \(408: WebSocket Error \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)\); reconnecting\. Next attempt in \d+ s\.$/);
  });

  it('a silent server (accepts, never answers): reconnecting once the connect timeout passes, not before', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const { connection: c, states } = connect(`ws://127.0.0.1:${silent.port}/ws/chat`, 1_500);
      await until(() => silent.sockets.size === 1, 2_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(c.state).toBe('connecting');
      await until(() => c.state === 'reconnecting', 3_000);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1_400);
      expect(elapsed).toBeLessThan(3_000);
      expect(states).toEqual(['reconnecting']);
      expect(c.connectionInfo().detail).toMatch(/^The connection to WhatsApp was lost \(408: WebSocket Error \(Opening handshake has timed out\)\); reconnecting\./);
    } finally {
      await silent.close();
    }
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never writes a byte. */
async function silentServer(): Promise<{ port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
