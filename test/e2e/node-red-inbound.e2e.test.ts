import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../shared/store/sqlite';
import { Crabline } from '../baileys/support/crabline';
import { primeLinkedAuth } from '../baileys/support/harness';
import { NodeRed, sleep, waitFor } from './support/node-red';
import { nodeIdOf, tab, workspace } from './support/flows';

// A real Node-RED whose workspace has a real Baileys account connected to crabline (a local fake WhatsApp
// Web server). crabline injects messages from a contact; the flow is whatsapp-in → a collector in this test
// (what was emitted) and → a function that answers by chat_id with quoted_message_id → whatsapp-send.
// crabline decrypts the reply; the outbox row of the reply names the quoted message. Then full deploys run
// while messages arrive: every message is emitted exactly once.

const SELF = '15550000001:0@s.whatsapp.net';
const ACCOUNT = { id: 'wa-15550000001', kind: 'baileys' as const, phone: '15550000001', name: null, createdAt: 1, connectedAt: null, active: true };
const PEER = '15551234567@s.whatsapp.net';

interface Emitted {
  readonly id: string;
  readonly text: string | null;
  readonly chat_id: string;
  readonly type: string;
  readonly sender: { readonly phone: string | null; readonly push_name: string | null };
}

describe('Node-RED end to end: received messages with a real Baileys account against crabline', () => {
  let userDir: string;
  let crabline: Crabline;
  let red: NodeRed;
  let collector: Server;
  let collectorUrl: string;
  const emitted: Emitted[] = [];

  const flows = () => [
    tab(),
    workspace('linked', { dryRunPhones: '' }),
    { id: 'in', type: 'whatsapp-in', z: 'e2e-tab', name: '', workspace: nodeIdOf('linked'), chatKinds: 'all', types: '', chats: '', accounts: '', includeOwn: false, markRead: true, downloadMedia: false, maxMediaMB: '16', x: 100, y: 100, wires: [['to-collector', 'answer']] },
    {
      id: 'to-collector',
      type: 'http request',
      z: 'e2e-tab',
      name: '',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: `${collectorUrl}/emitted`,
      tls: '',
      persist: false,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      x: 300,
      y: 100,
      wires: [[]],
    },
    {
      id: 'answer',
      type: 'function',
      z: 'e2e-tab',
      name: 'reply in thread',
      // Only the first message is answered; the rest are for the redeploy check.
      func: "if (msg.payload.text !== 'can you call me?') return null;\nmsg.payload = { chat_id: msg.payload.chat_id, text: 'calling you now', quoted_message_id: msg.payload.id };\nreturn msg;",
      outputs: 1,
      x: 300,
      y: 200,
      wires: [['send']],
    },
    { id: 'send', type: 'whatsapp-send', z: 'e2e-tab', name: '', workspace: nodeIdOf('linked'), phone: '', chatId: '', jid: '', chatName: '', accountPhone: '', text: '', fileUrl: '', fileName: '', statusOutput: false, x: 500, y: 200, wires: [[], []] },
  ];

  beforeAll(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-e2e-in-'));
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        emitted.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Emitted);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
    crabline = await Crabline.start(join(userDir, 'crabline.jsonl'), SELF);
    const store = new SqliteStore({ path: join(userDir, 'whatsapp', 'linked.sqlite') });
    await store.accounts.put(ACCOUNT);
    await primeLinkedAuth(store, ACCOUNT.id, { id: SELF, name: 'Crab Phone' });
    await store.close();
    red = await NodeRed.start(userDir, { env: { WAHOOK_WA_WEBSOCKET_URL: crabline.webSocketUrl } });
    await red.deploy(flows());
    const state = async () => {
      const response = await red.admin(`whatsapp-workspace/${nodeIdOf('linked')}/state`);
      if (response.status !== 200) return undefined;
      return ((await response.json()) as { accounts: { state: string }[] }).accounts[0]?.state;
    };
    await waitFor('the linked account to connect to crabline', async () => (await state()) === 'open', 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nNode-RED said:\n${red.log()}`);
    });
  }, 60_000);

  afterAll(async () => {
    const code = await red?.stop();
    await crabline?.close();
    await new Promise((resolve) => collector?.close(resolve));
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    if (red) expect(code).toBe(0);
  }, 20_000);

  it('emits an injected message, and the flow replies by chat_id in thread', async () => {
    expect(await crabline.inject({ from: PEER, text: 'can you call me?', pushName: 'Alice Crab' })).toMatchObject({ delivery: 'delivered' });
    await waitFor('whatsapp-in to emit the message', () => emitted.length === 1, 15_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nNode-RED said:\n${red.log()}`);
    });
    expect(emitted[0]).toMatchObject({ text: 'can you call me?', type: 'text', sender: { phone: '15551234567', push_name: 'Alice Crab' }, chat_id: expect.stringMatching(/^\d+$/) });
    await waitFor('crabline to decrypt the reply', () => crabline.accepted().some((message) => message.message.conversation === 'calling you now'), 15_000);
    expect(crabline.accepted().find((message) => message.message.conversation === 'calling you now')).toMatchObject({ key: { remoteJid: PEER, fromMe: true } });
    // The reply was queued quoting the received message (Baileys' own contract test shows the quote on the wire).
    const db = new DatabaseSync(join(userDir, 'whatsapp', 'linked.sqlite'), { readOnly: true });
    try {
      expect(db.prepare("SELECT quoted_id, status FROM messages WHERE text = 'calling you now'").all()).toEqual([{ quoted_id: emitted[0]!.id, status: expect.stringMatching(/^(sent|delivered|read)$/) }]);
    } finally {
      db.close();
    }
  }, 40_000);

  it('full deploys while messages arrive lose none and repeat none', async () => {
    const before = emitted.length;
    const texts = Array.from({ length: 30 }, (_, i) => `during the deploys ${i}`);
    const injecting = (async () => {
      for (const text of texts) {
        await crabline.inject({ from: PEER, text, pushName: 'Alice Crab' });
        await sleep(30);
      }
    })();
    for (let i = 0; i < 4; i++) {
      await sleep(150);
      await red.deploy(flows());
    }
    await injecting;
    await waitFor('every message to be emitted', () => texts.every((text) => emitted.some((message) => message.text === text)), 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nemitted: ${emitted.slice(before).map((message) => message.text).join(' | ')}\nNode-RED said:\n${red.log()}`);
    });
    await sleep(500);
    const counts = new Map<string, number>();
    for (const message of emitted.slice(before)) counts.set(message.text ?? '', (counts.get(message.text ?? '') ?? 0) + 1);
    expect(texts.map((text) => [text, counts.get(text)])).toEqual(texts.map((text) => [text, 1]));
    const errors = red.log().split('\n').filter((line) => line.includes('[error]'));
    if (errors.length) process.stdout.write(red.log());
    expect(errors).toEqual([]);
  }, 60_000);
});
