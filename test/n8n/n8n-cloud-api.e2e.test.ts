/**
 * The WhatsApp Cloud API account end to end in a real n8n 2.40.7 (scripts/n8n-install.sh), regular mode,
 * n8n's SQLite database: the WhatsApp Workspace credential carries a Cloud API number (its four fields),
 * and n8n's Graph API calls go (WAHOOK_GRAPH_API_URL, in n8n's own environment) to a local fake Graph API
 * (test/support/fake-graph-api.ts) that checks them as the Cloud API documents them. One active workflow:
 * the WhatsApp Inbound Webhook Trigger ("Queue for sending", Status output on), its two outputs into
 * No Op nodes so that each execution records what the trigger emitted.
 *
 * Meta's webhook for the number is the trigger's production URL with `cloud-api` in place of the token:
 * the verification GET is answered with the challenge for the credential's verify token; a TimelinesAI
 * call on the trigger's token URL goes out through the Cloud API account; the fake then posts Meta's
 * signed `delivered` and `read` status webhooks to the cloud-api URL, and each one shows up as an
 * execution of the Status output. A POST that is not signed with the app secret is refused (401 naming
 * why, logged by n8n) and changes nothing. Everything over HTTP; the workspace's store and n8n's database
 * are only read.
 */
import { createRequire } from 'node:module';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { storePathFor } from '../../shared';
import { cloudApiAccountId } from '../../shared/transport/cloud-api/driver';
import { signBody } from '../../shared/transport/cloud-api/signature';
import { FakeGraphApi } from '../support/fake-graph-api';
import { tempDir } from '../support/temp';
import { harness, startImported, type N8nInstance } from './e2e-harness';

jest.setTimeout(240_000);

const TOKEN = 'e2e-n8n-cloud-token-0123456789';
const VERIFY_TOKEN = 'e2e-cloud-verify-token';
const WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000e5';
const WORKFLOW_ID = 'wahookCloudWf001';
const TRIGGER_NAME = 'Cloud Trigger';
const MESSAGE_ID = /^wa_backend:3EB0[0-9A-F]{18}$/;

const dir = tempDir('wahook-n8n-cloud-');
const dataFolder = join(dir.path, 'data');
const storePath = storePathFor(dataFolder, 'cloud');
const graph = new FakeGraphApi();
const accountId = cloudApiAccountId(graph.phoneNumberId);

const credential = {
  id: 'wahookCloudCred1',
  name: 'WhatsApp Workspace (Cloud API)',
  type: 'whatsAppWorkspaceApi',
  data: {
    dataFolder,
    workspaceName: 'cloud',
    initialToken: TOKEN,
    quotaAllowance: 1000,
    quotaPeriod: 'daily',
    refundDelayMinutes: 0,
    gapMinSeconds: 0,
    gapMaxSeconds: 0.05,
    capPerHour: 0,
    capPerDay: 0,
    allowPrivateFileUrls: false,
    // No dry-run account: the Cloud API number is the workspace's only account.
    dryRunPhones: '',
    cloudApiPhoneNumberId: graph.phoneNumberId,
    cloudApiAccessToken: graph.accessToken,
    cloudApiAppSecret: graph.appSecret,
    cloudApiVerifyToken: VERIFY_TOKEN,
  },
};

const noOp = (name: string, y: number) => ({ id: `wahook-cloud-${name.toLowerCase()}`, name, type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, y], parameters: {} });
const workflow = {
  id: WORKFLOW_ID,
  name: 'WhatsApp webhook: Cloud API number, Accepted and Status',
  active: false,
  settings: { executionOrder: 'v1' },
  nodes: [
    {
      id: `${WEBHOOK_ID.slice(0, -2)}ff`,
      name: TRIGGER_NAME,
      type: 'CUSTOM.whatsAppTrigger',
      typeVersion: 1,
      position: [0, 0],
      webhookId: WEBHOOK_ID,
      parameters: { path: 'whatsapp-cloud', mode: 'queue', emission: 'each', emitStatus: true },
      credentials: { whatsAppWorkspaceApi: { id: credential.id, name: credential.name } },
    },
    noOp('Accepted', -100),
    noOp('Status', 100),
  ],
  connections: { [TRIGGER_NAME]: { main: [[{ node: 'Accepted', type: 'main', index: 0 }], [{ node: 'Status', type: 'main', index: 0 }]] } },
};

let n8n: N8nInstance;
let userFolder = '';
/** The trigger's production URL up to the token: `<n8n>/webhook/<webhook id>/whatsapp-cloud`. */
let base = '';
const cloudUrl = () => `${base}/cloud-api`;
const startedAt = Date.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await graph.start();
  ({ n8n, userFolder } = await startImported(dir.path, [credential], [workflow], { WAHOOK_GRAPH_API_URL: graph.baseUrl }));
  base = `${n8n.url}/webhook/${WEBHOOK_ID}/whatsapp-cloud`;
  // n8n reports ready before it has activated the workflow, and the account opens once the number check
  // at the (fake) Graph API answers: wait for both (our 404 body on the route, the account open in the store).
  await until('the trigger to serve its route', async () => {
    const answer = await fetch(`${base}/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then(
      async (response) => ({ status: response.status, body: (await response.json().catch(() => undefined)) as { data?: unknown } | undefined }),
      () => undefined,
    );
    return answer?.status === 404 && answer.body?.data !== undefined;
  });
  await until('the Cloud API account to be opened (the number check at the fake Graph API)', () =>
    (inStore((db) => (db.prepare('SELECT connected_at FROM accounts WHERE id = ?').get(accountId) as { connected_at: number | null } | undefined)?.connected_at ?? 0) ?? 0) > 0,
  );
});

afterAll(async () => {
  // WAHOOK_N8N_LOGS=<folder> keeps n8n's output there.
  const keep = process.env.WAHOOK_N8N_LOGS;
  if (keep && n8n) {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, 'n8n-cloud-api.log'), n8n.output());
  }
  await n8n?.stop();
  await graph.close();
  dir.cleanup();
  process.stdout.write(`n8n Cloud API end-to-end: ${((Date.now() - startedAt) / 1000).toFixed(1)} s including imports and start\n`);
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Not within ${timeoutMs / 1000} s: ${what}\nn8n said:\n${n8n?.output().slice(-4000)}`);
    await sleep(250);
  }
}

/** Reads the workspace's store as n8n leaves it (read-only; n8n keeps it open). Undefined before n8n made it. */
function inStore<T>(query: (db: DatabaseSync) => T): T | undefined {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(storePath, { readOnly: true });
  } catch {
    return undefined;
  }
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    return query(db);
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

const statusInStore = (messageId: string) =>
  inStore((db) => (db.prepare('SELECT status FROM messages WHERE id = ?').get(messageId.replace('wa_backend:', '')) as { status: string } | undefined)?.status);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const flatted = createRequire(join(harness.n8nDir(), 'node_modules', 'n8n', 'package.json'))('flatted') as { parse(text: string): unknown };

interface RunData {
  resultData?: { runData?: Record<string, { data?: { main?: ({ json?: Record<string, unknown> }[] | null)[] } }[]> };
}

interface Execution {
  readonly id: number;
  readonly status: string;
  /** What node `node` output on its first run. */
  items(node: string): Record<string, unknown>[];
}

/** The workflow's executions in n8n's database, in the order n8n created them. */
function executions(): Execution[] {
  const db = new DatabaseSync(join(userFolder, '.n8n', 'database.sqlite'), { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    const rows = db
      .prepare('SELECT e.id AS id, e.status AS status, d.data AS data FROM execution_entity e LEFT JOIN execution_data d ON d.executionId = e.id WHERE e.workflowId = ? ORDER BY e.id')
      .all(WORKFLOW_ID) as { id: number; status: string; data: string | null }[];
    return rows.map((row) => {
      const data = row.data ? (flatted.parse(row.data) as RunData) : {};
      return {
        id: Number(row.id),
        status: row.status,
        items: (node) => (data.resultData?.runData?.[node]?.[0]?.data?.main?.[0] ?? []).map((item) => item.json ?? {}),
      };
    });
  } finally {
    db.close();
  }
}

/** The Status output's items for one message, each from a finished execution, in the order the changes happened. */
function statusItems(messageId: string): Record<string, unknown>[] {
  return executions()
    .filter((execution) => execution.status === 'success')
    .flatMap((execution) => execution.items('Status'))
    .filter((item) => item.message_id === messageId)
    .sort((a, b) => String(a.at).localeCompare(String(b.at)));
}

interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

const errorBody = (status: number, message: string) => ({ status, data: {}, message });

/** The message sent in (b), for (c). */
let sent: { messageId: string; wamid: string } | undefined;

describe("Meta's verification GET at the trigger's cloud-api URL", () => {
  it('answers the challenge as text for the verify token, 403 with the reason for a wrong one', async () => {
    const right = await call(`${cloudUrl()}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(VERIFY_TOKEN)}&hub.challenge=12345`);
    expect(right).toEqual({ status: 200, contentType: expect.stringMatching(/^text\/plain/), text: '12345' });

    const wrong = await call(`${cloudUrl()}?hub.mode=subscribe&hub.verify_token=not-the-token&hub.challenge=12345`);
    expect(wrong.status).toBe(403);
    expect(wrong.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(wrong.text)).toEqual(errorBody(403, 'The webhook verification was refused: hub.verify_token does not match.'));
    expect(n8n.output()).toContain('WhatsApp Cloud API webhook: The webhook verification was refused: hub.verify_token does not match.');
  });
});

describe('a TimelinesAI call sent through the Cloud API number', () => {
  it('reaches the Graph API as documented; the signed delivered and read webhooks move it on and show on the Status output', async () => {
    graph.receipts = { url: cloudUrl(), delayMs: 300 };
    const answer = await call(`${base}/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'hi' }),
    });
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { status: string; data: { message_id: string } };
    expect(body).toEqual({ status: 'success', data: { message_id: expect.stringMatching(MESSAGE_ID) } });
    const messageId = body.data.message_id;

    // The send, as the Cloud API documents it: Bearer token, to in digits, a text message.
    await until('the send to reach the fake Graph API', () => graph.sends.length === 1);
    expect(graph.sends).toEqual([{ messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'text', text: { body: 'hi' } }]);
    const request = graph.requests.find((each) => each.path.endsWith('/messages'))!;
    expect(request).toMatchObject({ method: 'POST', path: `/v${graph.version}/${graph.phoneNumberId}/messages`, authorization: `Bearer ${graph.accessToken}` });
    const wamid = graph.wamids[0]!;

    // The fake posted delivered, then read, signed, to the trigger's cloud-api URL: both taken.
    await until('both receipts to be posted and answered', () => graph.receiptAnswers.length === 2);
    await graph.receiptsPosted();
    expect(graph.receiptAnswers).toEqual([200, 200]);
    await until('the message to be read in the store', () => statusInStore(messageId) === 'read');

    // One Status execution per change of our message: sent, delivered, read, for the Cloud API account.
    await until('the Status output to show read', () => statusItems(messageId).some((item) => item.status === 'read'));
    const items = statusItems(messageId);
    expect(items.map((item) => item.status)).toEqual(['sent', 'delivered', 'read']);
    for (const item of items) expect(item).toMatchObject({ message_id: messageId, account_id: accountId, reason: null });
    // The Accepted output had its execution too, with the same id.
    expect(executions().some((execution) => execution.items('Accepted').some((item) => item.message_id === messageId))).toBe(true);
    await until('every execution to finish', () => executions().every((execution) => execution.status !== 'new' && execution.status !== 'running'));
    // Four in all: Accepted, and Status for sent, delivered and read.
    expect(executions().map((execution) => execution.status)).toEqual(Array(4).fill('success'));
    graph.receipts = undefined;
    sent = { messageId, wamid };
  });
});

describe('a POST not signed with the app secret', () => {
  it('is refused with 401 naming why, is logged, and changes nothing', async () => {
    expect(sent).toBeDefined();
    const { messageId, wamid } = sent!;
    const before = executions().length;
    // A failed status would fail the message and give its unit back, were it taken.
    const genuine = graph.statusWebhook(wamid, 'failed', '14151231234', [{ code: 131026, title: 'Message Undeliverable.' }]);
    const post = (signature: string | undefined, body = genuine.body) =>
      call(cloudUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }) }, body });

    const wrong = await post(signBody(genuine.body, 'not-the-app-secret'));
    expect(wrong.status).toBe(401);
    expect(wrong.contentType).toMatch(/^application\/json/);
    const refusal = 'The webhook call was refused: the signature does not match the body; it must be signed with the app secret of a configured number.';
    expect(JSON.parse(wrong.text)).toEqual(errorBody(401, refusal));
    expect(JSON.parse((await post(undefined)).text)).toEqual(
      errorBody(401, 'The webhook call was refused: the X-Hub-Signature-256 header is missing; it must be signed with the app secret of a configured number.'),
    );
    // The genuine signature over other bytes: the body was tampered with.
    const tampered = await post(genuine.signature, genuine.body.replace('"failed"', '"read"'));
    expect(tampered.status).toBe(401);
    expect(JSON.parse(tampered.text)).toEqual(errorBody(401, refusal));
    await until('n8n to log the refusal', () => n8n.output().includes(`WhatsApp Cloud API webhook: ${refusal}`), 10_000);

    // Nothing moved: the message is still read, and no execution started (a change would have run the Status output).
    await sleep(2_000);
    expect(statusInStore(messageId)).toBe('read');
    expect(statusItems(messageId).map((item) => item.status)).toEqual(['sent', 'delivered', 'read']);
    expect(executions()).toHaveLength(before);
    const failed = inStore((db) => db.prepare('SELECT COUNT(*) AS n FROM messages WHERE status = ?').get('failed') as { n: number });
    expect(failed?.n).toBe(0);
  });
});
