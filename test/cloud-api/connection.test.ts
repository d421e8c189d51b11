import { join } from 'node:path';
import type { AccountState } from '../../shared/model';
import { SqliteStore } from '../../shared/store/sqlite';
import { CloudApiConnection, NO_SETTINGS_SENTENCE, type CloudApiSettings } from '../../shared/transport/cloud-api/connection';
import { OUTSIDE_WINDOW_SENTENCE, TOKEN_SENTENCE } from '../../shared/transport/cloud-api/errors';
import { signBody } from '../../shared/transport/cloud-api/signature';
import type { IncomingMessage, StatusUpdate } from '../../shared/transport/types';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { Workspace } from '../../shared/workspace/workspace';
import { FakeGraphApi } from '../support/fake-graph-api';
import { until } from '../support/fake-transport';
import { tempDir } from '../support/temp';

const settingsOf = (graph: FakeGraphApi): CloudApiSettings => ({
  phoneNumberId: graph.phoneNumberId,
  accessToken: graph.accessToken,
  appSecret: graph.appSecret,
  verifyToken: 'verify-me',
  graphBaseUrl: graph.baseUrl,
  graphVersion: graph.version,
});

describe('CloudApiConnection', () => {
  let graph: FakeGraphApi;
  beforeEach(async () => {
    graph = await new FakeGraphApi().start();
  });
  afterEach(() => graph.close());

  it('is connecting until the number answers, then open with its phone and name', async () => {
    const connection = new CloudApiConnection('c1', null, settingsOf(graph));
    const states: AccountState[] = [];
    connection.onStateChange((state) => states.push(state));
    expect(connection.state).toBe('connecting');
    expect(connection.isReady()).toBe(false);
    await connection.start();
    expect(connection.state).toBe('open');
    expect(states).toEqual(['open']);
    expect(connection.phone).toBe('15550100000');
    expect(connection.name).toBe('Test Shop');
    expect(await connection.resolvePhone('14151231234')).toEqual({ onWhatsApp: true, jid: '14151231234@s.whatsapp.net' });
    await connection.close();
  });

  it('sends and answers wamids; a reply quotes the received message', async () => {
    const connection = new CloudApiConnection('c1', null, settingsOf(graph));
    await connection.start();
    expect(await connection.sendText('14151231234@s.whatsapp.net', 'hi', 'ours1')).toMatch(/^wamid\./);
    const quoted = { id: 'wamid.theirs', chatJid: '14151231234@s.whatsapp.net', senderJid: null, fromMe: false, raw: {} };
    const media = { kind: 'document' as const, buffer: Buffer.from('pdf'), mimetype: 'application/pdf', fileName: 'a.pdf' };
    expect(await connection.sendMedia('14151231234@s.whatsapp.net', media, 'ours2', { quoted })).toMatch(/^wamid\./);
    expect(graph.sends[1]).toMatchObject({ type: 'document', document: { filename: 'a.pdf' }, context: { message_id: 'wamid.theirs' } });
    await connection.close();
  });

  it('an expired token pauses it with the sentence; a new check reopens it', async () => {
    graph.tokenExpired = true;
    const connection = new CloudApiConnection('c1', null, settingsOf(graph));
    await connection.start();
    expect(connection.state).toBe('paused');
    expect(connection.connectionInfo()).toEqual({ detail: TOKEN_SENTENCE, pausedUntil: null, pauseReason: TOKEN_SENTENCE });
    graph.tokenExpired = false;
    connection.reconnect();
    await until(() => connection.state === 'open');
    graph.tokenExpired = true;
    await expect(connection.sendText('14151231234@s.whatsapp.net', 'x', 'm')).rejects.toMatchObject({ kind: 'unavailable', reason: TOKEN_SENTENCE });
    expect(connection.state).toBe('paused');
    await connection.close();
  });

  it('without settings it is paused and says so', async () => {
    const connection = new CloudApiConnection('c1', null, undefined);
    await connection.start();
    expect(connection.state).toBe('paused');
    expect(connection.connectionInfo().detail).toBe(NO_SETTINGS_SENTENCE);
    await expect(connection.sendText('1@s.whatsapp.net', 'x', 'm')).rejects.toMatchObject({ kind: 'unavailable' });
    expect(connection.acceptWebhook('{}', 'sha256=00')).toEqual({ ok: false, reason: NO_SETTINGS_SENTENCE });
  });

  it('accepts only signed webhooks and hands statuses and messages to their listeners', async () => {
    const connection = new CloudApiConnection('c1', null, settingsOf(graph));
    const statuses: StatusUpdate[] = [];
    const incoming: IncomingMessage[] = [];
    connection.onStatus((update) => statuses.push(update));
    connection.onIncoming((message) => incoming.push(message));
    const signed = graph.statusWebhook('wamid.X', 'delivered', '14151231234');
    expect(connection.acceptWebhook(signed.body, undefined)).toEqual({ ok: false, reason: 'the X-Hub-Signature-256 header is missing' });
    expect(connection.acceptWebhook(signed.body.replace('delivered', 'read'), signed.signature)).toEqual({ ok: false, reason: 'the signature does not match the body' });
    expect(statuses).toEqual([]);
    expect(connection.acceptWebhook(Buffer.from(signed.body), signed.signature)).toEqual({ ok: true, statuses: 1, messages: 0 });
    expect(statuses).toEqual([{ messageId: 'wamid.X', status: 'delivered' }]);
    const message = graph.signed({
      object: 'whatsapp_business_account',
      entry: [{ id: 'W', changes: [{ field: 'messages', value: { metadata: { phone_number_id: graph.phoneNumberId }, contacts: [{ wa_id: '14151231234', profile: { name: 'Ann' } }], messages: [{ from: '14151231234', id: 'wamid.in', timestamp: '1700000000', type: 'text', text: { body: 'hey' } }] } }] }],
    });
    expect(connection.acceptWebhook(message.body, message.signature)).toEqual({ ok: true, statuses: 0, messages: 1 });
    expect(incoming[0]).toMatchObject({ id: 'wamid.in', text: 'hey', sender: { pushName: 'Ann', phone: '14151231234' } });
    expect(connection.acceptWebhook('not json', signBody('not json', graph.appSecret))).toEqual({ ok: false, reason: 'the body is not JSON' });
    expect(connection.answerVerification({ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '42' })).toEqual({ ok: true, challenge: '42' });
    await connection.close();
  });
});

describe('A workspace with a Cloud API account', () => {
  let graph: FakeGraphApi;
  let workspace: Workspace;
  let connection: CloudApiConnection | undefined;
  let dir: ReturnType<typeof tempDir>;
  const errors: unknown[] = [];
  beforeEach(async () => {
    graph = await new FakeGraphApi().start();
    dir = tempDir();
    const store = new SqliteStore({ path: join(dir.path, 'cloud.sqlite') });
    await store.accounts.put({ id: 'biz', kind: 'cloud-api', phone: null, name: null, createdAt: 1, connectedAt: null, active: true });
    workspace = await Workspace.open({
      store,
      quota: { period: 'daily', allowance: 10 },
      pacing: { gap: { minMs: 1, maxMs: 3 } },
      onError: (error) => errors.push(error),
      cloudApi: {
        settings: (accountId) => (accountId === 'biz' ? settingsOf(graph) : undefined),
        opened: (opened) => {
          connection = opened;
        },
      },
    });
  });
  afterEach(async () => {
    await workspace.close();
    await graph.close();
    dir.cleanup();
    expect(errors).toEqual([]);
  });

  const post = async (payload: object): Promise<string> => {
    const answer = await handleWebhookCall(workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify(payload),
      token: workspace.webhookState().token,
      remoteAddress: null,
    });
    expect(answer.status).toBe(200);
    return (answer.body as { data: { message_id: string } }).data.message_id.slice('wa_backend:'.length);
  };

  it('sends through the Graph API, keeps the wamid, and signed receipts move the message to delivered then read', async () => {
    await until(() => workspace.connection('biz')?.state === 'open');
    const id = await post({ action: 'send', phone: '+1 415 123 1234', text: 'hello from the cloud' });
    await until(async () => (await workspace.message(id))?.status === 'sent');
    expect(graph.sends).toEqual([{ messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'text', text: { body: 'hello from the cloud' } }]);
    const provider = graph.wamids[0];
    expect(provider).toMatch(/^wamid\./);
    // The message's provider id is the wamid: its receipts find it.
    expect(await workspace.store.outbox.idForProviderId(provider!)).toBe(id);
    const delivered = graph.statusWebhook(provider!, 'delivered', '14151231234');
    expect(connection!.acceptWebhook(delivered.body, delivered.signature)).toMatchObject({ ok: true, statuses: 1 });
    await until(async () => (await workspace.message(id))?.status === 'delivered');
    const read = graph.statusWebhook(provider!, 'read', '14151231234');
    expect(connection!.acceptWebhook(read.body, read.signature)).toMatchObject({ ok: true });
    await until(async () => (await workspace.message(id))?.status === 'read');
    expect((await workspace.quota()).used).toBe(1);
  });

  it('a send outside the 24-hour window fails with the sentence and refunds its unit', async () => {
    graph.outsideWindow.add('14151231234');
    await until(() => workspace.connection('biz')?.state === 'open');
    const id = await post({ action: 'send', phone: '+14151231234', text: 'too late' });
    expect((await workspace.quota()).used).toBe(1);
    await until(async () => (await workspace.message(id))?.status === 'failed');
    expect((await workspace.message(id))?.reason).toBe(OUTSIDE_WINDOW_SENTENCE);
    await until(async () => (await workspace.quota()).used === 0);
  });
});

describe('Signed webhooks posted by the fake Graph API', () => {
  it('reach a transport behind a local endpoint: a genuine POST is taken, a tampered one refused', async () => {
    const { createServer } = await import('node:http');
    const graph = await new FakeGraphApi().start();
    const connection = new CloudApiConnection('c1', null, settingsOf(graph));
    const statuses: StatusUpdate[] = [];
    connection.onStatus((update) => statuses.push(update));
    // What an engine's endpoint will do: hand the raw bytes and the header to the transport.
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const header = request.headers['x-hub-signature-256'];
        const result = connection.acceptWebhook(Buffer.concat(chunks), Array.isArray(header) ? header[0] : header);
        response.writeHead(result.ok ? 200 : 403).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/webhook`;
    try {
      const failed = graph.statusWebhook('wamid.F', 'failed', '14151231234', [{ code: 131026, title: 'Message Undeliverable.' }]);
      expect(await graph.postTo(url, failed)).toBe(200);
      expect(await graph.postTo(url, { body: failed.body.replace('wamid.F', 'wamid.G'), signature: failed.signature })).toBe(403);
      expect(statuses).toEqual([{ messageId: 'wamid.F', status: 'failed', reason: expect.stringContaining('could not deliver') }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await graph.close();
    }
  });
});
