import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGraphApi } from '../support/fake-graph-api';
import { readScrape } from '../support/prometheus';
import { signBody } from '../../shared/transport/cloud-api/signature';
import { NodeRed, sleep, waitFor } from './support/node-red';
import { nodeIdOf, tab, tokenOf, workspace } from './support/flows';
import { readStoreFile, storeFileOf } from './support/store-file';

// A real Node-RED whose workspace has a WhatsApp Cloud API number (the phone number id a property of the
// config node, the access token, app secret and verify token its credentials, deployed as the editor sends
// them) and whose Graph API is a local fake (WAHOOK_GRAPH_API_URL). Meta's webhook is Node-RED's
// <httpNodeRoot>whatsapp/cloud-api; the fake posts its signed receipts there. The webhook node's two
// outputs go through a function (which numbers them, so their order survives the HTTP hop) to a collector
// in this test.

const NAME = 'cloud';
const VERIFY_TOKEN = 'verify-token-for-the-e2e';
const RECIPIENT = '14151231234';

interface Collected {
  /** The order the webhook node emitted in (counted by the function node). */
  readonly n: number;
  readonly topic?: string;
  readonly payload: Record<string, unknown>;
}

interface Lifecycle {
  readonly message_id: string;
  readonly request_message_id: string;
  readonly account_id: string;
  readonly status: string;
  readonly reason: string | null;
  readonly at: string;
}

describe('Node-RED end to end: a WhatsApp Cloud API number against a fake Graph API', () => {
  let userDir: string;
  let graph: FakeGraphApi;
  let red: NodeRed;
  let collector: Server;
  let collectorUrl: string;
  const collected = { accepted: [] as Collected[], status: [] as Collected[] };
  let accountId: string;
  let requestId = '';

  const cloudApiUrl = () => `${red.url}/whatsapp/cloud-api`;
  const numbered = (id: string, output: 'accepted' | 'status') => ({
    id,
    type: 'function',
    z: 'e2e-tab',
    name: `number the ${output} output`,
    func: "const n = (context.get('n') || 0) + 1;\ncontext.set('n', n);\nmsg.payload = { n, topic: msg.topic, payload: msg.payload };\nreturn msg;",
    outputs: 1,
    x: 400,
    y: output === 'accepted' ? 100 : 200,
    wires: [[`${id}-post`]],
  });
  const poster = (id: string, output: 'accepted' | 'status') => ({
    id: `${id}-post`,
    type: 'http request',
    z: 'e2e-tab',
    name: '',
    method: 'POST',
    ret: 'txt',
    paytoqs: 'ignore',
    url: `${collectorUrl}/${output}`,
    tls: '',
    persist: false,
    proxy: '',
    insecureHTTPParser: false,
    authType: '',
    senderr: false,
    headers: [],
    x: 600,
    y: output === 'accepted' ? 100 : 200,
    wires: [[]],
  });
  const flows = () => [
    tab(),
    {
      ...workspace(NAME, { dryRunPhones: '', cloudApiPhoneNumberId: graph.phoneNumberId }),
      credentials: { cloudApiAccessToken: graph.accessToken, cloudApiAppSecret: graph.appSecret, cloudApiVerifyToken: VERIFY_TOKEN },
    },
    { id: `${NAME}-webhook`, type: 'whatsapp-webhook', z: 'e2e-tab', name: '', workspace: nodeIdOf(NAME), x: 200, y: 150, wires: [['accepted'], ['status']] },
    numbered('accepted', 'accepted'),
    poster('accepted', 'accepted'),
    numbered('status', 'status'),
    poster('status', 'status'),
  ];

  const state = async () => {
    const response = await red.admin(`whatsapp-workspace/${nodeIdOf(NAME)}/state`);
    expect(response.status).toBe(200);
    return (await response.json()) as {
      webhook: { path: string; enabled: boolean; cloudApiPath: string | null };
      accounts: { id: string; kind: string; phone: string; name: string | null; state: string }[];
      quota: { available: number; used: number; pendingRefunds: number };
      attempts: unknown[];
    };
  };
  const attemptLog = async () => {
    const response = await red.admin(`whatsapp-workspace/${nodeIdOf(NAME)}/log`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { attempts: unknown[] }).attempts;
  };
  /** Every counter of the workspace's scrape, by name and labels. */
  const counters = async () => {
    const response = await red.admin(`whatsapp-workspace/${nodeIdOf(NAME)}/metrics`);
    expect(response.status).toBe(200);
    return readScrape(await response.text())
      .series.filter((series) => series.name.endsWith('_total'))
      .map((series) => `${series.name}${JSON.stringify(series.labels)} ${series.value}`)
      .sort();
  };
  const messageRows = () => readStoreFile(storeFileOf(userDir, NAME), (db) => db.prepare('SELECT id, request_id, status FROM messages ORDER BY rowid').all());
  const verification = async (query: string) => {
    const response = await fetch(`${cloudApiUrl()}?${query}`);
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };
  const lifecycleOf = (id: string) => collected.status.filter((entry) => (entry.payload as unknown as Lifecycle).message_id === id);

  beforeAll(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-e2e-cloud-'));
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const output = req.url === '/accepted' ? collected.accepted : collected.status;
        output.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Collected);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
    graph = await new FakeGraphApi().start();
    accountId = `cloud-api-${graph.phoneNumberId}`;
    red = await NodeRed.start(userDir, { env: { WAHOOK_GRAPH_API_URL: graph.baseUrl } });
    // Receipts go to Node-RED's Cloud API webhook, known once Node-RED has its port. The pause before each
    // keeps it behind the send's own record (a receipt that beats it is applied later, see LateReceipts).
    graph.receipts = { url: cloudApiUrl(), delayMs: 300 };
    await red.deploy(flows());
    const accountOpen = async () => {
      const response = await red.admin(`whatsapp-workspace/${nodeIdOf(NAME)}/state`);
      if (response.status !== 200) return false;
      return ((await response.json()) as { accounts: { id: string; state: string }[] }).accounts.some((account) => account.id === accountId && account.state === 'open');
    };
    await waitFor('the Cloud API account to open', accountOpen, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nNode-RED said:\n${red.log()}`);
    });
  }, 90_000);

  afterAll(async () => {
    const code = await red?.stop();
    await graph?.close();
    await new Promise((resolve) => collector?.close(resolve));
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    if (red) expect(code).toBe(0);
  }, 30_000);

  it('adds the number as an account of kind cloud-api, with the phone and name the number check gave, and names its callback URL', async () => {
    const { webhook, accounts } = await state();
    expect(webhook).toEqual({ path: `/whatsapp/${tokenOf(NAME)}`, enabled: true, cloudApiPath: '/whatsapp/cloud-api' });
    expect(accounts).toEqual([expect.objectContaining({ id: accountId, kind: 'cloud-api', phone: '15550100000', name: 'Test Shop', state: 'open' })]);
    // The number check: GET /v21.0/<id>?fields=display_phone_number,verified_name with the access token.
    const check = graph.requests.find((request) => request.method === 'GET' && request.path === `/v21.0/${graph.phoneNumberId}`);
    expect(check).toMatchObject({ authorization: `Bearer ${graph.accessToken}` });
    expect(check!.query.get('fields')).toBe('display_phone_number,verified_name');
  });

  it("answers Meta's verification GET with the challenge for the verify token, and 403 naming why otherwise", async () => {
    expect(await verification(`hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=12345`)).toEqual({ status: 200, type: 'text/plain; charset=utf-8', text: '12345' });
    // The callback URL as entered with a trailing slash is the same webhook.
    const slash = await fetch(`${cloudApiUrl()}/?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=678`);
    expect([slash.status, await slash.text()]).toEqual([200, '678']);
    const wrong = await verification('hub.mode=subscribe&hub.verify_token=not-the-token&hub.challenge=12345');
    expect([wrong.status, wrong.type, JSON.parse(wrong.text)]).toEqual([
      403,
      'application/json; charset=utf-8',
      { status: 403, data: {}, message: 'The webhook verification was refused: hub.verify_token does not match.' },
    ]);
    expect(red.log()).toContain('WhatsApp Cloud API webhook: The webhook verification was refused: hub.verify_token does not match.');
  });

  it('sends a TimelinesAI-style call through the Graph API; the signed receipts reach the webhook node\'s Status output: sent, delivered, read', async () => {
    const response = await fetch(`${red.url}/whatsapp/${tokenOf(NAME)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'hi' }),
    });
    const answer = (await response.json()) as { status: string; data: { message_id: string } };
    expect([response.status, answer]).toEqual([200, { status: 'success', data: { message_id: expect.stringMatching(/^wa_backend:3EB0[0-9A-F]{18}$/) } }]);
    requestId = answer.data.message_id;

    // Output 1: the accepted message, from the Cloud API account.
    await waitFor('the accepted output', () => collected.accepted.length === 1, 15_000);
    const accepted = collected.accepted[0]!.payload as { message_id: string; account: unknown; messages: { message_id: string; part: unknown }[]; units: number };
    expect(accepted).toMatchObject({ message_id: requestId, account: { id: accountId, phone: '15550100000' }, units: 1 });
    expect(accepted.messages).toHaveLength(1);
    const messageId = accepted.messages[0]!.message_id;

    // The Graph API got the documented send, and answered it with a wamid.
    await waitFor('the send at the Graph API', () => graph.sends.length === 1, 15_000);
    expect(graph.sends).toEqual([{ messaging_product: 'whatsapp', recipient_type: 'individual', to: RECIPIENT, type: 'text', text: { body: 'hi' } }]);
    const sendRequest = graph.requests.find((request) => request.method === 'POST' && request.path === `/v21.0/${graph.phoneNumberId}/messages`)!;
    expect([sendRequest.authorization, sendRequest.contentType]).toEqual([`Bearer ${graph.accessToken}`, expect.stringMatching(/^application\/json/)]);
    expect(graph.wamids).toHaveLength(1);

    // The fake posted signed delivered, then read, to Node-RED's Cloud API webhook: both taken.
    await waitFor('both receipts to be posted', () => graph.receiptAnswers.length === 2, 15_000);
    await graph.receiptsPosted();
    expect(graph.receiptAnswers).toEqual([200, 200]);

    // Output 2: the message's lifecycle, in the order the node emitted it.
    await waitFor('read on the Status output', () => lifecycleOf(messageId).some((entry) => (entry.payload as unknown as Lifecycle).status === 'read'), 15_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nstatus output: ${JSON.stringify(collected.status)}\nNode-RED said:\n${red.log()}`);
    });
    const lifecycle = lifecycleOf(messageId).sort((a, b) => a.n - b.n);
    expect(lifecycle.map((entry) => [entry.topic, (entry.payload as unknown as Lifecycle).status])).toEqual([
      ['sent', 'sent'],
      ['delivered', 'delivered'],
      ['read', 'read'],
    ]);
    for (const entry of lifecycle) {
      expect(entry.payload).toEqual({
        message_id: messageId,
        request_message_id: requestId,
        account_id: accountId,
        status: entry.topic,
        reason: null,
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
    }
    // Nothing else was emitted on either output.
    expect(collected.status.map((entry) => (entry.payload as unknown as Lifecycle).message_id)).toEqual([messageId, messageId, messageId]);
    expect(collected.accepted).toHaveLength(1);
    expect(messageRows()).toEqual([{ id: messageId.slice('wa_backend:'.length), request_id: requestId.slice('wa_backend:'.length), status: 'read' }]);
  }, 60_000);

  it('refuses a POST with a wrong or missing signature with 401 naming why, and changes nothing: no message, quota, attempt or output', async () => {
    expect(requestId).not.toBe('');
    const before = { state: await state(), attempts: await attemptLog(), counters: await counters(), rows: messageRows(), outputs: JSON.stringify(collected) };
    expect(before.state.quota).toMatchObject({ used: 1, available: 999 });

    // A genuine-looking failed receipt for the message, signed with another app's secret.
    const forged = graph.statusWebhook(graph.wamids[0]!, 'failed', RECIPIENT, [{ code: 131026, title: 'Message Undeliverable.' }]);
    const post = async (headers: Record<string, string>, body = forged.body) => {
      const response = await fetch(cloudApiUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as unknown };
    };
    const mismatch = 'The webhook call was refused: the signature does not match the body; it must be signed with the app secret of a configured number.';
    expect(await post({ 'x-hub-signature-256': signBody(forged.body, 'not-the-app-secret') })).toEqual({
      status: 401,
      type: 'application/json; charset=utf-8',
      body: { status: 401, data: {}, message: mismatch },
    });
    // The genuine signature of another body (the body was tampered with after signing).
    const genuine = graph.statusWebhook(graph.wamids[0]!, 'delivered', RECIPIENT);
    expect((await post({ 'x-hub-signature-256': genuine.signature })).body).toEqual({ status: 401, data: {}, message: mismatch });
    expect(await post({})).toEqual({
      status: 401,
      type: 'application/json; charset=utf-8',
      body: { status: 401, data: {}, message: 'The webhook call was refused: the X-Hub-Signature-256 header is missing; it must be signed with the app secret of a configured number.' },
    });
    expect((await post({ 'x-hub-signature-256': 'sha1=0123456789abcdef' })).body).toEqual({
      status: 401,
      data: {},
      message: 'The webhook call was refused: the X-Hub-Signature-256 header is not sha256=<64 hex digits>; it must be signed with the app secret of a configured number.',
    });
    expect(red.log()).toContain(`[warn] WhatsApp Cloud API webhook: ${mismatch}`);

    // Give a wrongly taken receipt time to show (its store write, the Status output's HTTP hop).
    await sleep(1_000);
    expect(messageRows()).toEqual(before.rows);
    expect(JSON.stringify(collected)).toBe(before.outputs);
    const after = await state();
    expect(after.quota).toEqual(before.state.quota);
    expect(after.accounts).toEqual(before.state.accounts);
    expect(await attemptLog()).toEqual(before.attempts);
    // Every counter is as it was, but the refusals' own: four 401s at the Cloud API webhook.
    const refusals = 'wahook_cloud_api_webhook_calls_total{"status":"401"}';
    const counted = await counters();
    expect(counted.filter((line) => !line.startsWith(refusals))).toEqual(before.counters.filter((line) => !line.startsWith(refusals)));
    expect(counted.filter((line) => line.startsWith(refusals))).toEqual([`${refusals} 4`]);
    // A genuine signature is still taken (the refusals left the route working).
    expect(await graph.postTo(cloudApiUrl(), genuine)).toBe(200);
    expect(red.log()).not.toMatch(/\[error\]/);
  }, 30_000);
});
