import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import helper from 'node-red-node-test-helper';
import type { NodeAPI } from 'node-red';
import { throwawaySchema } from '../support/postgres';
import { webhookFlow, workspaceNode } from './helper-flows';

// The compiled nodes, as Node-RED loads them.
/* eslint-disable @typescript-eslint/no-require-imports */
const workspaceInit = require('../../dist/nodes/node-red/whatsapp-workspace.js') as (RED: NodeAPI) => void;
const webhookInit = require('../../dist/nodes/node-red/whatsapp-webhook.js') as (RED: NodeAPI) => void;
const sendInit = require('../../dist/nodes/node-red/whatsapp-send.js') as (RED: NodeAPI) => void;
// The registry the compiled nodes use (the TypeScript sources would be a second module instance).
const { workspaces } = require('../../dist/shared/hosting/registry.js') as typeof import('../../shared/hosting/registry');
const catchInit = require('@node-red/nodes/core/common/25-catch.js') as (RED: NodeAPI) => void;

helper.init(require.resolve('node-red'));

interface Msg {
  payload: Record<string, unknown>;
  topic?: string;
  error?: { message: string };
  statusCode?: number;
}

/** The helper node's input events (its typings only know 'close'). */
function onInput(nodeId: string, listener: (msg: Msg) => void): void {
  (helper.getNode(nodeId) as unknown as NodeJS.EventEmitter).on('input', listener);
}

/** Resolves with the next message the helper node receives. */
function nextMessage(nodeId: string): Promise<Msg> {
  return new Promise((resolve) => (helper.getNode(nodeId) as unknown as NodeJS.EventEmitter).once('input', resolve));
}

describe('Node-RED nodes (node-red-node-test-helper)', () => {
  let userDir: string;
  let httpNode: unknown;
  // The webhook is served on RED.httpNode, which helper.request() does not reach: capture RED instead.
  const capturingWebhook = (RED: NodeAPI) => {
    httpNode = RED.httpNode;
    webhookInit(RED);
  };

  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-nr-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    expect(workspaces.openKeys()).toEqual([]);
    rmSync(userDir, { recursive: true, force: true });
  });

  const post = (token: string, body: unknown, contentType = 'application/json') =>
    request(httpNode as Parameters<typeof request>[0])
      .post(`/whatsapp/${token}`)
      .set('content-type', contentType)
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  it('accepts a webhook call, emits the accepted message, then its lifecycle', async () => {
    await helper.load([workspaceInit, capturingWebhook], webhookFlow('ws'));
    const accepted = nextMessage('ws-accepted');
    const delivered = new Promise<Msg>((resolve) => {
      onInput('ws-status', (msg) => msg.topic === 'delivered' && resolve(msg));
    });
    const response = await post('ws-token-0123456789abcdef', { action: 'send', phone: '+14151231234', text: 'hi' });
    expect(response.status).toBe(200);
    const messageId = response.body.data.message_id as string;
    expect(messageId).toMatch(/^wa_backend:3EB0[0-9A-F]{18}$/);
    expect((await accepted).payload).toMatchObject({
      message_id: messageId,
      account: { id: 'dry-run-15105566777', phone: '15105566777' },
      recipient: { field: 'phone', value: '14151231234' },
      units: 1,
    });
    expect((await delivered).payload).toMatchObject({ message_id: messageId, status: 'delivered', reason: null });
  });

  /** Waits until the webhook route knows the token (the webhook node starts serving once its workspace is open). */
  const eventuallyServed = async (token: string) => {
    for (let tries = 0; tries < 50; tries++) {
      if ((await post(token, '{')).status !== 404) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('opens a workspace on PostgreSQL when the config node chooses it, and accepts a webhook call into that schema', async () => {
    const schema = throwawaySchema();
    try {
      const postgres = { storeKind: 'postgres', pgHost: '127.0.0.1', pgPort: '5432', pgDatabase: 'test', pgUser: 'postgres', pgSsl: 'off', pgSchema: schema.name };
      // The password comes from Node-RED's credential store (the test server trusts the user, so any will do).
      await helper.load([workspaceInit, capturingWebhook], webhookFlow('pg', postgres), { pg: { pgPassword: 'kept-in-credentials' } });
      // Until the server has answered, the token is no workspace's yet (404, as for any unknown token).
      await (helper.getNode('pg') as unknown as { workspace: Promise<unknown> }).workspace;
      await eventuallyServed('pg-token-0123456789abcdef');
      const accepted = nextMessage('pg-accepted');
      const response = await post('pg-token-0123456789abcdef', { action: 'send', phone: '+14151231234', text: 'hi from PostgreSQL' });
      expect(response.status).toBe(200);
      expect((await accepted).payload).toMatchObject({ message_id: response.body.data.message_id });
      expect(workspaces.openKeys()).toEqual([`postgres://postgres@127.0.0.1:5432/test?schema=${schema.name}`]);
      const rows = await schema.admin<{ text: string }>(`SELECT text FROM "${schema.name}".messages`);
      expect(rows).toEqual([{ text: 'hi from PostgreSQL' }]);
    } finally {
      await helper.unload();
      await workspaces.closingDone();
      await schema.drop();
    }
  });

  it('reports a bad PostgreSQL setting of the config node with its sentence', async () => {
    await helper.load([workspaceInit, capturingWebhook], webhookFlow('badpg', { storeKind: 'postgres', pgHost: '127.0.0.1', pgDatabase: 'test', pgUser: 'postgres', pgSsl: 'maybe' }));
    const config = helper.getNode('badpg') as unknown as { problem: () => string | undefined };
    expect(config.problem()).toBe('Setting "pgSsl" must be "off", "require" or "verify"; got "maybe".');
  });

  it('answers every refusal with its status and sentence, and emits nothing', async () => {
    await helper.load([workspaceInit, capturingWebhook], webhookFlow('ws'));
    let emitted = 0;
    onInput('ws-accepted', () => emitted++);
    const bad = await post('ws-token-0123456789abcdef', { action: 'send', phone: '+14151231234' });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ status: 400, data: {}, message: 'Field "text" is required; it may be empty only when "file_url" is given.' });
    const wrongType = await post('ws-token-0123456789abcdef', 'text=hi', 'application/x-www-form-urlencoded');
    expect(wrongType.status).toBe(415);
    const unknown = await post('nope', { action: 'send', phone: '+14151231234', text: 'hi' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ status: 404, data: {}, message: 'Webhook not found' });
    const get = await request(httpNode as Parameters<typeof request>[0]).get('/whatsapp/ws-token-0123456789abcdef');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(emitted).toBe(0);
  });

  it('leaves no stale route after redeploying twice', async () => {
    await helper.load([workspaceInit, capturingWebhook], webhookFlow('first'));
    const call = (token: string) => post(token, { action: 'send', phone: '+14151231234', text: 'hi' });
    expect((await call('first-token-0123456789abcdef')).status).toBe(200);

    await helper.setFlows(webhookFlow('second'), 'full');
    expect((await call('first-token-0123456789abcdef')).status).toBe(404);
    expect((await call('second-token-0123456789abcdef')).status).toBe(200);

    await helper.setFlows(webhookFlow('third'), 'full');
    expect((await call('second-token-0123456789abcdef')).status).toBe(404);
    expect((await call('third-token-0123456789abcdef')).status).toBe(200);
    expect(workspaces.openKeys()).toEqual([join(userDir, 'whatsapp', 'third-store.sqlite')]);
  });

  it('answers malformed webhook paths with the contract\'s JSON 404, not Express\'s HTML error page', async () => {
    await helper.load([workspaceInit, capturingWebhook], webhookFlow('ws'));
    const app = httpNode as Parameters<typeof request>[0];
    for (const path of ['/whatsapp/%zz', '/whatsapp/%E0%A4%A', '/whatsapp/%', '/whatsapp/a/b', '/whatsapp']) {
      const answer = await request(app).post(path).set('content-type', 'application/json').send('{"action":"send"}');
      expect([path, answer.status, answer.headers['content-type'], answer.body]).toEqual([path, 404, 'application/json; charset=utf-8', { status: 404, data: {}, message: 'Webhook not found' }]);
    }
    expect((await request(app).get('/whatsapp/%')).status).toBe(404);
    expect((await post('ws-token-0123456789abcdef', { action: 'send', phone: '+14151231234', text: 'still served' })).status).toBe(200);
  });

  it('answers 503 naming the store fault while the workspace cannot open, never 404', async () => {
    // A folder where the store file should be: SQLite cannot open it.
    mkdirSync(join(userDir, 'whatsapp', 'broken-store.sqlite'), { recursive: true });
    await helper.load([workspaceInit, capturingWebhook], webhookFlow('broken'));
    const answer = await post('broken-token-0123456789abcdef', { action: 'send', phone: '+14151231234', text: 'hi' });
    expect([answer.status, answer.headers['retry-after'], answer.body]).toEqual([
      503,
      '5',
      { status: 503, data: {}, message: 'The workspace store cannot be opened (check its folder and permissions). It is retried every 10 s. Nothing was queued; retry in a few seconds.' },
    ]);
  });

  it('serves nothing for a workspace without a webhook node', async () => {
    await helper.load([workspaceInit, capturingWebhook], [workspaceNode('lonely'), { id: 'tab', type: 'tab' }]);
    // The route is mounted by the webhook node type; no webhook node serves this workspace's token.
    expect((await post('lonely-token-0123456789abcdef', { action: 'send', phone: '+14151231234', text: 'hi' })).status).toBe(404);
  });

  describe('whatsapp-send', () => {
    const flow = (overrides: Record<string, unknown> = {}) => [
      { id: 'tab', type: 'tab' },
      workspaceNode('ws'),
      {
        id: 'send',
        type: 'whatsapp-send',
        z: 'tab',
        workspace: 'ws',
        phone: '',
        chatId: '',
        jid: '',
        chatName: '',
        accountPhone: '',
        text: '',
        fileUrl: '',
        fileName: '',
        statusOutput: true,
        wires: [['out'], ['status']],
        ...overrides,
      },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'status', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];

    it('queues msg.payload in the webhook shape and reports the id, then the status', async () => {
      await helper.load([workspaceInit, sendInit, catchInit], flow());
      const out = nextMessage('out');
      const sent = new Promise<Msg>((resolve) => onInput('status', (msg) => msg.topic === 'sent' && resolve(msg)));
      helper.getNode('send').receive({ payload: { phone: '+14151231234', text: 'from a flow' }, _msgid: 'm1' });
      const accepted = await out;
      expect(accepted.payload).toMatchObject({ message_id: expect.stringMatching(/^wa_backend:3EB0/), recipient: { field: 'phone', value: '14151231234' } });
      expect((await sent).payload).toMatchObject({ message_id: accepted.payload.message_id, status: 'sent' });
    });

    it('fills what the payload leaves out from the editor fields', async () => {
      await helper.load([workspaceInit, sendInit, catchInit], flow({ phone: '+44 7700 900123', text: 'default text' }));
      const out = nextMessage('out');
      helper.getNode('send').receive({ payload: 'just the text' });
      expect((await out).payload).toMatchObject({ recipient: { field: 'phone', value: '447700900123' }, request: { text: 'just the text' } });
    });

    it('sends a Buffer in msg.attachment as a file, typed by its bytes', async () => {
      await helper.load([workspaceInit, sendInit, catchInit], flow({ phone: '+14151231234' }));
      const out = nextMessage('out');
      const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(32, 1)]);
      helper.getNode('send').receive({ payload: { text: 'the chart' }, attachment: { data: png, filename: 'chart.png' } });
      const accepted = await out;
      expect(accepted.payload).toMatchObject({ units: 2, request: { text: 'the chart', file: { attached: true, name: 'chart.png' } } });
      const messages = accepted.payload.messages as { part: string }[];
      expect(messages.map((message) => message.part)).toEqual(['text', 'file']);
    });

    it('hands a refusal to Catch nodes with its sentence and status', async () => {
      await helper.load([workspaceInit, sendInit, catchInit], flow());
      const caught = nextMessage('caught');
      helper.getNode('send').receive({ payload: { phone: '12', text: 'hi' } });
      const msg = await caught;
      expect(msg.error?.message).toBe('Field "phone" must be a phone number in international format with its country code, such as "+14151231234".');
      expect(msg.statusCode).toBe(400);
    });

    it('reports quota exhaustion as 429', async () => {
      await helper.load([workspaceInit, sendInit, catchInit], flow());
      for (let i = 0; i < 10; i++) {
        const out = nextMessage('out');
        helper.getNode('send').receive({ payload: { phone: '+14151231234', text: `m${i}` } });
        await out;
      }
      const caught = nextMessage('caught');
      helper.getNode('send').receive({ payload: { phone: '+14151231234', text: 'one too many' } });
      const msg = await caught;
      expect(msg.statusCode).toBe(429);
      expect(msg.error?.message).toBe('Not enough messaging quota: 0 units are available and this request needs 1; nothing was queued.');
    });
  });
});
