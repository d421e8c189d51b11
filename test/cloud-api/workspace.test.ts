import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { MessageChange } from '../../shared/model';
import { SqliteStore } from '../../shared/store/sqlite';
import { cloudApiAccountId, CLOUD_API_GAP } from '../../shared/transport/cloud-api/driver';
import { OUTSIDE_WINDOW_SENTENCE, RATE_LIMIT_SENTENCE, UNDELIVERABLE_SENTENCE } from '../../shared/transport/cloud-api/errors';
import { signBody } from '../../shared/transport/cloud-api/signature';
import { serveCloudApiCall, type CloudApiCall } from '../../shared/webhook/cloud-api-webhook';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { Workspace } from '../../shared/workspace/workspace';
import { FakeGraphApi, graphErrorBody } from '../support/fake-graph-api';
import { until } from '../support/fake-transport';
import { tempDir } from '../support/temp';
import { readScrape } from '../support/prometheus';

describe('A workspace with a Cloud API number', () => {
  let graph: FakeGraphApi;
  let workspace: Workspace;
  let dir: ReturnType<typeof tempDir>;
  let changes: MessageChange[];
  let errors: unknown[];
  let accountId: string;

  const open = async (path: string, extra: Partial<Parameters<typeof Workspace.open>[0]> = {}): Promise<Workspace> =>
    Workspace.open({
      store: new SqliteStore({ path }),
      quota: { period: 'daily', allowance: 10 },
      // The workspace's own gaps are for linked phones; the Cloud API account uses its profile.
      pacing: { gap: { minMs: 60_000, maxMs: 60_000 } },
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
      onError: (error) => errors.push(error),
      cloudApi: { numbers: [graph.settings()] },
      ...extra,
    });

  beforeEach(async () => {
    graph = await new FakeGraphApi().start();
    dir = tempDir();
    changes = [];
    errors = [];
    accountId = cloudApiAccountId(graph.phoneNumberId);
    workspace = await open(join(dir.path, 'cloud.sqlite'));
    workspace.onMessageChange((change) => changes.push(change));
    await until(() => workspace.connection(accountId)?.state === 'open');
  });
  afterEach(async () => {
    await workspace.close();
    await graph.close();
    dir.cleanup();
    expect(errors).toEqual([]);
  });

  const send = async (payload: object): Promise<string> => {
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
  const post = (signed: { body: string; signature: string | undefined }): ReturnType<typeof serveCloudApiCall> =>
    serveCloudApiCall([workspace], { method: 'POST', query: '', body: Buffer.from(signed.body), signature: signed.signature });
  const statusesOf = (id: string) => changes.filter((change) => change.messageId === id).map((change) => change.status);

  it('is an account of its own, opened with the phone and name the number check gave', async () => {
    expect(workspace.accounts()).toEqual([expect.objectContaining({ id: accountId, kind: 'cloud-api', phone: '15550100000', name: 'Test Shop', active: true })]);
    // whatsapp_account_phone picks it like any account.
    const id = await send({ action: 'send', phone: '+14151231234', text: 'by phone', whatsapp_account_phone: '+1 555 010 0000' });
    expect((await workspace.message(id))?.accountId).toBe(accountId);
  });

  it('sends through the Graph API, keeps the wamid beside our id, and signed receipts move it to delivered then read', async () => {
    const id = await send({ action: 'send', phone: '+1 415 123 1234', text: 'hello from the cloud' });
    await until(async () => (await workspace.message(id))?.status === 'sent');
    expect(graph.sends).toEqual([{ messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'text', text: { body: 'hello from the cloud' } }]);
    const wamid = graph.wamids[0]!;
    expect(await workspace.store.outbox.idForProviderId(wamid)).toBe(id);
    expect(await post(graph.statusWebhook(wamid, 'delivered', '14151231234'))).toMatchObject({ status: 200 });
    expect((await workspace.message(id))?.status).toBe('delivered');
    expect(await post(graph.statusWebhook(wamid, 'read', '14151231234'))).toMatchObject({ status: 200 });
    expect((await workspace.message(id))?.status).toBe('read');
    expect(statusesOf(id)).toEqual(['queued', 'sending', 'sent', 'delivered', 'read']);
    expect((await workspace.quota()).used).toBe(1);
  });

  it('sends a file the webhook names by URL: downloaded under the same guard, uploaded to the media endpoint, sent by its media id', async () => {
    await workspace.close();
    workspace = await open(join(dir.path, 'cloud.sqlite'), { download: { allowPrivateAddresses: true } });
    workspace.onMessageChange((change) => changes.push(change));
    await until(() => workspace.connection(accountId)?.state === 'open');
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2048, 7)]);
    const files = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf));
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/invoice.pdf`;
      const id = await send({ action: 'send', phone: '+14151231234', text: 'your invoice', file_url: url, file_name: 'invoice.pdf' });
      const parts = await workspace.store.outbox.byRequest(id);
      expect(parts).toHaveLength(2);
      await until(async () => (await Promise.all(parts.map((part) => workspace.message(part.id)))).every((message) => message?.status === 'sent'));
      const upload = graph.requests.find((request) => request.path.endsWith('/media'));
      expect(upload?.body).toMatchObject({ messaging_product: 'whatsapp', type: 'application/pdf', file: { name: 'invoice.pdf', type: 'application/pdf', size: pdf.length } });
      expect((upload!.body as { file: { bytes: Buffer } }).file.bytes.equals(pdf)).toBe(true);
      expect(graph.sends).toEqual([
        { messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'text', text: { body: 'your invoice' } },
        { messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'document', document: { id: expect.stringMatching(/^media\./), filename: 'invoice.pdf' } },
      ]);
      // Both parts keep their wamid, so each part's receipts find it.
      for (const [index, part] of parts.entries()) expect(await workspace.store.outbox.idForProviderId(graph.wamids[index]!)).toBe(part.id);
    } finally {
      files.closeAllConnections();
      await new Promise<void>((resolve) => files.close(() => resolve()));
    }
  });

  it('a number the settings no longer name stays with its history but is never the default; named again, it is back', async () => {
    const path = join(dir.path, 'cloud.sqlite');
    await workspace.close();
    workspace = await open(path, { cloudApi: { numbers: [] } });
    expect(workspace.accounts()).toEqual([expect.objectContaining({ id: accountId, active: false })]);
    const refused = await handleWebhookCall(workspace, { method: 'POST', contentType: 'application/json', body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'x' }), token: workspace.webhookState().token, remoteAddress: null });
    expect(refused.status).toBe(422);
    await workspace.close();
    workspace = await open(path);
    expect(workspace.accounts()).toEqual([expect.objectContaining({ id: accountId, active: true, phone: '15550100000' })]);
    await until(() => workspace.connection(accountId)?.state === 'open');
  });

  it('a new access token reaches the open workspace: the paused account reopens with it and sends what waited', async () => {
    graph.tokenExpired = true;
    const id = await send({ action: 'send', phone: '+14151231234', text: 'waits for a token' });
    await until(() => workspace.connection(accountId)?.state === 'paused');
    expect((await workspace.message(id))?.status).toBe('queued');
    graph.tokenExpired = false;
    // Same values: nothing reopens (n8n names the number on every call).
    await workspace.useCloudApiNumber(graph.settings());
    expect(workspace.connection(accountId)?.state).toBe('paused');
    // The credential now holds a new token (the fake takes it as its own).
    graph.accessToken = 'EAAnew-token';
    await workspace.useCloudApiNumber({ ...graph.settings(), accessToken: 'EAAnew-token' });
    await until(async () => (await workspace.message(id))?.status === 'sent');
    expect(graph.requests.at(-1)?.authorization).toBe('Bearer EAAnew-token');
  });

  it('a replayed receipt, or one that comes late out of order, changes nothing', async () => {
    const id = await send({ action: 'send', phone: '+14151231234', text: 'once' });
    await until(async () => (await workspace.message(id))?.status === 'sent');
    const wamid = graph.wamids[0]!;
    const read = graph.statusWebhook(wamid, 'read', '14151231234');
    expect((await post(read)).status).toBe(200);
    expect((await post(read)).status).toBe(200);
    expect((await post(graph.statusWebhook(wamid, 'delivered', '14151231234'))).status).toBe(200);
    expect((await workspace.message(id))?.status).toBe('read');
    expect(statusesOf(id)).toEqual(['queued', 'sending', 'sent', 'read']);
  });

  it('refuses an unsigned, wrongly signed or tampered POST with 401 naming why, and records nothing', async () => {
    const id = await send({ action: 'send', phone: '+14151231234', text: 'x' });
    await until(async () => (await workspace.message(id))?.status === 'sent');
    const genuine = graph.statusWebhook(graph.wamids[0]!, 'read', '14151231234');
    const missing = await post({ body: genuine.body, signature: undefined });
    expect(missing).toMatchObject({ status: 401, warning: expect.stringContaining('the X-Hub-Signature-256 header is missing') });
    expect(JSON.parse(missing.body)).toEqual({ status: 401, data: {}, message: missing.warning });
    expect(await post({ body: genuine.body, signature: 'sha1=abc' })).toMatchObject({ status: 401, warning: expect.stringContaining('is not sha256=<64 hex digits>') });
    expect(await post({ body: genuine.body, signature: signBody(genuine.body, 'another app') })).toMatchObject({
      status: 401,
      warning: expect.stringContaining('the signature does not match the body'),
    });
    expect(await post({ body: genuine.body.replace('"read"', '"failed"'), signature: genuine.signature })).toMatchObject({ status: 401 });
    expect((await workspace.message(id))?.status).toBe('sent');
    // Sent twice (Node joins a repeated header with ", "), the valid one is enough.
    const twice = await serveCloudApiCall([workspace], { method: 'POST', query: '', body: Buffer.from(genuine.body), signature: `sha256=${'0'.repeat(64)}, ${genuine.signature}` });
    expect(twice.status).toBe(200);
    expect((await workspace.message(id))?.status).toBe('read');
    // Counted where an operator sees it: four refused signatures.
    const scrape = readScrape((await workspace.metricsText()).text);
    expect(scrape.value('wahook_cloud_api_webhook_calls_total', { status: '401' })).toBe(4);
  });

  it('a failed status fails the message with a sentence a person understands and gives its unit back', async () => {
    const id = await send({ action: 'send', phone: '+14151231234', text: 'x' });
    await until(async () => (await workspace.message(id))?.status === 'sent');
    expect((await workspace.quota()).used).toBe(1);
    expect((await post(graph.statusWebhook(graph.wamids[0]!, 'failed', '14151231234', [{ code: 131026, title: 'Message Undeliverable.' }]))).status).toBe(200);
    expect(await workspace.message(id)).toMatchObject({ status: 'failed', reason: UNDELIVERABLE_SENTENCE });
    expect(changes.find((change) => change.messageId === id && change.status === 'failed')).toMatchObject({ cause: 'rejected_by_whatsapp' });
    expect((await workspace.quota()).used).toBe(0);
  });

  it('a send outside the 24-hour window fails with the sentence and refunds its unit', async () => {
    graph.outsideWindow.add('14151231234');
    const id = await send({ action: 'send', phone: '+14151231234', text: 'too late' });
    await until(async () => (await workspace.message(id))?.status === 'failed');
    expect((await workspace.message(id))?.reason).toBe(OUTSIDE_WINDOW_SENTENCE);
    expect((await workspace.quota()).used).toBe(0);
  });

  it('a rate-limit answer backs the account off instead of failing, past the retry policy\'s attempts, and keeps the order', async () => {
    for (let i = 0; i < 3; i++) graph.nextErrors.push({ status: 400, body: graphErrorBody(130429, 'Rate limit hit', 'Cloud API message throughput has been reached.') });
    const id = await send({ action: 'send', phone: '+14151231234', text: 'patient' });
    const next = await send({ action: 'send', phone: '+14151231234', text: 'after it' });
    await until(async () => (await workspace.message(next))?.status === 'sent', 20_000);
    // Three refused tries, then it goes; the message behind it waited its turn.
    expect(graph.sends.map((sent) => (sent['text'] as { body: string }).body)).toEqual(['patient', 'patient', 'patient', 'patient', 'after it']);
    // maxAttempts is 2 here: a transient error would have failed it on the second refusal.
    expect(statusesOf(id)).toEqual(['queued', 'sending', 'queued', 'sending', 'queued', 'sending', 'queued', 'sending', 'sent']);
    expect(changes.filter((change) => change.messageId === id && change.status === 'queued' && change.reason === RATE_LIMIT_SENTENCE)).toHaveLength(3);
  }, 30_000);

  it('a rate limit spends none of the retry policy\'s attempts: a server error after it is still retried', async () => {
    for (let i = 0; i < 3; i++) graph.nextErrors.push({ status: 400, body: graphErrorBody(131056, 'Pair rate limit hit', 'Too many messages sent to this user.') });
    graph.nextErrors.push({ status: 503, body: graphErrorBody(2, 'Service temporarily unavailable', '') });
    const id = await send({ action: 'send', phone: '+14151231234', text: 'rate limited, then a hiccup' });
    // maxAttempts is 2: the 503 is the first real try, so it is retried, not failed.
    await until(async () => (await workspace.message(id))?.status === 'sent', 20_000);
    expect(statusesOf(id).filter((status) => status === 'failed')).toEqual([]);
    expect(graph.wamids).toHaveLength(1);
  }, 30_000);

  it('paces with its own profile, not the workspace\'s gaps for linked phones', async () => {
    const ids = [await send({ action: 'send', phone: '+14151231234', text: 'one' }), await send({ action: 'send', phone: '+14151231235', text: 'two' })];
    // The workspace's gap is a minute: both go out at once only under the Cloud API's 20 ms.
    await until(async () => (await Promise.all(ids.map((id) => workspace.message(id)))).every((message) => message?.status === 'sent'));
    expect(CLOUD_API_GAP).toEqual({ minMs: 20, maxMs: 20 });
  });

  it('a receipt that arrives before its send was recorded is applied once the send is', async () => {
    const id = await send({ action: 'send', phone: '+14151231234', text: 'fast' });
    await until(async () => (await workspace.message(id))?.status === 'sent');
    const wamid = graph.wamids[0]!;
    // As if the receipt came before markSent wrote the wamid: forget it, post, then write it back.
    await workspace.store.outbox.markSent(id, '14151231234@s.whatsapp.net', Date.now(), null);
    const early = graph.signed({
      object: 'whatsapp_business_account',
      entry: [{ id: 'W', changes: [{ field: 'messages', value: { metadata: { phone_number_id: graph.phoneNumberId }, statuses: [{ id: 'wamid.later', status: 'delivered', recipient_id: '14151231234' }] } }] }],
    });
    expect((await post(early)).status).toBe(200);
    expect((await workspace.message(id))?.status).toBe('sent');
    expect(wamid).not.toBe('wamid.later');
    // The provider id arrives now (the sender's record commits).
    await workspace.store.outbox.markSent(id, '14151231234@s.whatsapp.net', Date.now(), 'wamid.later');
    await until(async () => (await workspace.message(id))?.status === 'delivered');
  });

  it('stores a received message once, in the shape of every received message, however often Meta posts it', async () => {
    const received = graph.signed({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'W',
          changes: [
            {
              field: 'messages',
              value: {
                metadata: { phone_number_id: graph.phoneNumberId },
                contacts: [{ wa_id: '14151231234', profile: { name: 'Ann' } }],
                messages: [{ from: '14151231234', id: 'wamid.in1', timestamp: '1700000000', type: 'text', text: { body: 'hey there' } }],
              },
            },
            // Another number of the same app: not this workspace's.
            { field: 'messages', value: { metadata: { phone_number_id: '999' }, messages: [{ from: '1', id: 'wamid.other', timestamp: '1', type: 'text', text: { body: 'no' } }] } },
          ],
        },
      ],
    });
    const items: unknown[] = [];
    const follower = await workspace.received.follow({ reader: 'test', filter: {}, deliver: async (batch) => void items.push(...batch.map((item) => item.message)) });
    expect((await post(received)).status).toBe(200);
    expect((await post(received)).status).toBe(200);
    await until(() => items.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await follower.stop();
    expect(items).toEqual([
      expect.objectContaining({
        id: 'wamid.in1',
        type: 'text',
        text: 'hey there',
        from_me: false,
        is_group: false,
        timestamp: '2023-11-14T22:13:20.000Z',
        account: { id: accountId, phone: '15550100000' },
        sender: { jid: '14151231234@s.whatsapp.net', lid: null, phone: '14151231234', push_name: 'Ann' },
      }),
    ]);
    expect(items).toHaveLength(1);
  });

  it('a received image keeps its media facts, and its bytes come from the Graph API by media id', async () => {
    graph.media.set('media.in.9', { bytes: Buffer.from('\xff\xd8\xffJPEG', 'latin1'), mimetype: 'image/jpeg' });
    const image = graph.signed({
      object: 'whatsapp_business_account',
      entry: [{ id: 'W', changes: [{ field: 'messages', value: { metadata: { phone_number_id: graph.phoneNumberId }, messages: [{ from: '14151231234', id: 'wamid.img', timestamp: '1700000001', type: 'image', image: { id: 'media.in.9', mime_type: 'image/jpeg', caption: 'look', file_size: 7 } }] } }] }],
    });
    expect((await post(image)).status).toBe(200);
    const stored = await workspace.store.inbound.find('wamid.img', accountId);
    expect(stored).toBeDefined();
    const media = await workspace.received.media(stored!, 1_000_000);
    expect(media).toEqual({ ok: true, data: Buffer.from('\xff\xd8\xffJPEG', 'latin1'), mimetype: 'image/jpeg', fileName: 'wamid.img' });
    // A process that never holds accounts (connectAccounts: false) downloads it too: the Cloud API needs no connection held.
    const other = await open(join(dir.path, 'cloud.sqlite'), { connectAccounts: false });
    try {
      expect(await other.received.media(stored!, 1_000_000)).toEqual(media);
    } finally {
      await other.close();
    }
  });

  it('stores a received message whose timestamp no date can hold at its time of arrival, and the messages after it', async () => {
    const message = (id: string, timestamp: string) =>
      graph.signed({
        object: 'whatsapp_business_account',
        entry: [{ id: 'W', changes: [{ field: 'messages', value: { metadata: { phone_number_id: graph.phoneNumberId }, messages: [{ from: '14151231234', id, timestamp, type: 'text', text: { body: id } }] } }] }],
      });
    const items: { id: string; timestamp: string }[] = [];
    const follower = await workspace.received.follow({ reader: 'test', filter: {}, deliver: async (batch) => void items.push(...batch.map((item) => item.message)) });
    const before = Date.now();
    // 1e306 seconds is a finite number, but no Date: it must not stop this message or the next from being stored.
    expect((await post(message('wamid.far', '1e306'))).status).toBe(200);
    expect((await post(message('wamid.next', '1700000000'))).status).toBe(200);
    await until(() => items.length === 2);
    await follower.stop();
    expect(items.map((item) => item.id)).toEqual(['wamid.far', 'wamid.next']);
    expect(Date.parse(items[0]!.timestamp)).toBeGreaterThanOrEqual(before - 1_000);
    expect(items[1]!.timestamp).toBe('2023-11-14T22:13:20.000Z');
  }, 30_000);

  it('answers the verification GET with the challenge for its verify token, and 403 naming why otherwise', async () => {
    const get = (query: string) => serveCloudApiCall([workspace], { method: 'GET', query, body: undefined, signature: undefined });
    expect(await get('hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444')).toEqual({
      status: 200,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
      body: '1158201444',
    });
    expect(await get('hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1')).toMatchObject({ status: 403, warning: 'The webhook verification was refused: hub.verify_token does not match.' });
    expect(await get('hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1')).toMatchObject({ status: 403, warning: expect.stringContaining('hub.mode is not subscribe') });
    expect(await get('hub.mode=subscribe&hub.verify_token=verify-me')).toMatchObject({ status: 403, warning: expect.stringContaining('hub.challenge is missing') });
    expect(await get('%zz=%')).toMatchObject({ status: 403 });
  });

  it('answers other methods, bodies that are not JSON and oversized bodies with the contract\'s JSON, and no number with 404', async () => {
    const call = (overrides: Partial<CloudApiCall>) => serveCloudApiCall([workspace], { method: 'POST', query: '', body: '', signature: undefined, ...overrides });
    expect(await call({ method: 'PUT' })).toMatchObject({ status: 405, headers: expect.objectContaining({ Allow: 'GET, POST' }) });
    expect(await call({ body: 'not json', signature: signBody('not json', graph.appSecret) })).toMatchObject({ status: 400 });
    expect(await call({ body: Buffer.alloc(3 * 1024 * 1024 + 1) })).toMatchObject({ status: 413 });
    expect(await serveCloudApiCall([], { method: 'GET', query: '', body: undefined, signature: undefined })).toMatchObject({ status: 404 });
    expect(await serveCloudApiCall([], { method: 'POST', query: '', body: '{}', signature: undefined }, true)).toMatchObject({ status: 503, headers: expect.objectContaining({ 'Retry-After': '5' }) });
  });

  it('a second process on the same store with the number takes the webhook and the receipt reaches the first', async () => {
    const other = await open(join(dir.path, 'cloud.sqlite'), { connectAccounts: false });
    try {
      const id = await send({ action: 'send', phone: '+14151231234', text: 'shared' });
      await until(async () => (await workspace.message(id))?.status === 'sent');
      const delivered = graph.statusWebhook(graph.wamids[0]!, 'delivered', '14151231234');
      const answer = await serveCloudApiCall([other], { method: 'POST', query: '', body: delivered.body, signature: delivered.signature });
      expect(answer.status).toBe(200);
      expect((await workspace.message(id))?.status).toBe('delivered');
    } finally {
      await other.close();
    }
  });
});
