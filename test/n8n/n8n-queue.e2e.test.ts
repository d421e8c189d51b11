/**
 * n8n queue mode end to end (issue 12): a real n8n 2.40.7 as a main (`n8n start`), one worker (`n8n worker`)
 * and one webhook process (`n8n webhook`), n8n's own database in a throwaway PostgreSQL database, its Bull
 * queue in Redis under a prefix of this run's own, our built package loaded in all three. The WhatsApp
 * Workspace credential keeps the workspace in a throwaway schema of the test database, with a dry-run
 * account. Everything is asserted over HTTP, in the workspace's store (dry_run_sent, message status, the
 * change feed's origins, the account's holder) and in the executions n8n records in its database; the
 * worker's log line "Worker started execution <id>" says where an execution ran.
 *
 * Which process does what: the webhook process answers production webhook calls (our trigger's
 * `webhook()`, n8n's Webhook node) and queues their executions; the worker runs every execution (the
 * WhatsApp node's Send and Link steps, "Pass to workflow"); the main runs the trigger's `trigger()` (its
 * Status output, Dedicated Port and batches, and the WhatsApp Trigger for received messages, which reads
 * them from the store whichever process received them) and queues what it emits. The test process itself holds the
 * dry-run account first (a fourth process on the store, as `wahook serve` would be), so the Status
 * output's first change comes from a sender that is not the main; it then lets go, and an n8n process
 * takes the account over (whichever renews first: the main, the worker or the webhook process).
 *
 * Link Account: the worker's linking socket goes (WAHOOK_WA_WEBSOCKET_URL) to a local fake WhatsApp Web
 * server (support/pairing-server.ts) that completes the Noise handshake and asks to pair with refs of its
 * own, so the QR in the execution is the one Baileys made on the worker from that server's ref; its
 * link page is then opened on the webhook process.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ensureDryRunAccounts, LINK_PAGE_SENTENCES, workspaceOptionsFor } from '../../shared';
import { PostgresStore } from '../../shared/store/postgres';
import { Workspace } from '../../shared/workspace/workspace';
import { settingsFromCredential } from '../../nodes/n8n/common/workspace-access';
import { readerKey } from '../../nodes/n8n/WhatsAppMessageTrigger/WhatsAppMessageTrigger.node';
import { incomingText } from '../support/incoming';
import { tempDir } from '../support/temp';
import { TEST_PG_URL, throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import { pairingServer, type PairingServer } from '../support/pairing-server';
import { harness, type N8nInstance } from './e2e-harness';
import { replyInThreadWorkflow } from './e2e-workflows';

jest.setTimeout(240_000);

const TOKEN = 'e2e-n8n-queue-token-0123456789';
const DRY_RUN_PHONE = '+15105566777';
const ACCOUNT_ID = 'dry-run-15105566777';
const MESSAGE_ID = /^wa_backend:3EB0[0-9A-F]{18}$/;
const REDIS = { host: process.env.WAHOOK_TEST_REDIS_HOST ?? '127.0.0.1', port: process.env.WAHOOK_TEST_REDIS_PORT ?? '6379' };

const TRIGGER_WORKFLOW = 'wahookQueueTrg01';
const SEND_WORKFLOW = 'wahookQueueSnd01';
const LINK_WORKFLOW = 'wahookQueueLnk01';
const TRIGGER_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000f6';
const PORT_WORKFLOW = 'wahookQueuePrt01';
const PORT_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000f7';
const BATCH_WORKFLOW = 'wahookQueueBat01';
const PASS_WORKFLOW = 'wahookQueuePas01';
const PASS_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000f9';
const BATCH_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000f8';
const RECEIVED_WORKFLOW = 'wahookQueueRcv01';
const RECEIVED_TRIGGER = { id: 'wahook-q-received', name: 'WhatsApp Trigger' };

const pg = new URL(TEST_PG_URL);
const run = randomBytes(5).toString('hex');
/** n8n's own database, created for this run and dropped after it. */
const N8N_DATABASE = `wahook_n8n_${run}`;

const credentialFor = (schema: string) => ({
  id: 'wahookQueueCred1',
  name: 'WhatsApp Workspace (queue)',
  type: 'whatsAppWorkspaceApi',
  data: {
    storeKind: 'postgres',
    pgHost: pg.hostname,
    pgPort: Number(pg.port || 5432),
    pgDatabase: pg.pathname.slice(1),
    pgUser: decodeURIComponent(pg.username),
    pgPassword: decodeURIComponent(pg.password),
    pgSsl: 'off',
    pgSchema: schema,
    workspaceName: 'queue',
    dataFolder: '',
    initialToken: TOKEN,
    quotaAllowance: 1000,
    quotaPeriod: 'daily',
    refundDelayMinutes: 0,
    gapMinSeconds: 0,
    gapMaxSeconds: 0.05,
    capPerHour: 0,
    capPerDay: 0,
    allowPrivateFileUrls: false,
    dryRunPhones: DRY_RUN_PHONE,
  },
});

function workflowsFor(credential: { id: string; name: string }, dedicatedPort: number) {
  const uses = { whatsAppWorkspaceApi: { id: credential.id, name: credential.name } };
  const noOp = (name: string, y: number) => ({ id: `wahook-q-${name.toLowerCase()}`, name, type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, y], parameters: {} });
  /** n8n's Webhook node at POST /webhook/<path>, answering with the WhatsApp step's first item. */
  const step = (id: string, path: string, parameters: Record<string, unknown>) => ({
    id,
    name: `Queue mode: ${path}`,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [
      { id: `${id}-hook`, name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: `${id}-hook-id`, parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', options: {} } },
      { id: `${id}-wa`, name: 'WhatsApp', type: 'CUSTOM.whatsApp', typeVersion: 1, position: [220, 0], parameters, credentials: uses },
    ],
    connections: { Webhook: { main: [[{ node: 'WhatsApp', type: 'main', index: 0 }]] } },
  });
  return [
    {
      id: TRIGGER_WORKFLOW,
      name: 'Queue mode: trigger with Accepted and Status',
      active: false,
      settings: { executionOrder: 'v1' },
      nodes: [
        {
          id: `${TRIGGER_WEBHOOK_ID.slice(0, -2)}ff`,
          name: 'Trigger',
          type: 'CUSTOM.whatsAppTrigger',
          typeVersion: 1,
          position: [0, 0],
          webhookId: TRIGGER_WEBHOOK_ID,
          parameters: { path: 'whatsapp', mode: 'queue', emission: 'each', emitStatus: true },
          credentials: uses,
        },
        noOp('Accepted', -100),
        noOp('Status', 100),
      ],
      connections: { Trigger: { main: [[{ node: 'Accepted', type: 'main', index: 0 }], [{ node: 'Status', type: 'main', index: 0 }]] } },
    },
    {
      id: PORT_WORKFLOW,
      name: 'Queue mode: trigger with a Dedicated Port, each message',
      active: false,
      settings: { executionOrder: 'v1' },
      nodes: [
        {
          id: `${PORT_WEBHOOK_ID.slice(0, -2)}ff`,
          name: 'Port Trigger',
          type: 'CUSTOM.whatsAppTrigger',
          typeVersion: 1,
          position: [0, 0],
          webhookId: PORT_WEBHOOK_ID,
          parameters: { path: 'whatsapp-port', mode: 'queue', emission: 'each', emitStatus: false, dedicatedPort, dedicatedHost: '127.0.0.1' },
          credentials: uses,
        },
        noOp('Port Accepted', 0),
      ],
      connections: { 'Port Trigger': { main: [[{ node: 'Port Accepted', type: 'main', index: 0 }], []] } },
    },
    {
      id: BATCH_WORKFLOW,
      name: 'Queue mode: trigger emitting in batches',
      active: false,
      settings: { executionOrder: 'v1' },
      nodes: [
        {
          id: `${BATCH_WEBHOOK_ID.slice(0, -2)}ff`,
          name: 'Batch Trigger',
          type: 'CUSTOM.whatsAppTrigger',
          typeVersion: 1,
          position: [0, 0],
          webhookId: BATCH_WEBHOOK_ID,
          parameters: { path: 'whatsapp-batch', mode: 'queue', emission: 'batch', batchWindowSeconds: 2, emitStatus: false },
          credentials: uses,
        },
        noOp('Batch Accepted', 0),
      ],
      connections: { 'Batch Trigger': { main: [[{ node: 'Batch Accepted', type: 'main', index: 0 }], []] } },
    },
    {
      id: PASS_WORKFLOW,
      name: 'Queue mode: pass to workflow, the Send step answers',
      active: false,
      settings: { executionOrder: 'v1' },
      nodes: [
        {
          id: `${PASS_WEBHOOK_ID.slice(0, -2)}ff`,
          name: 'Pass Trigger',
          type: 'CUSTOM.whatsAppTrigger',
          typeVersion: 1,
          position: [0, 0],
          webhookId: PASS_WEBHOOK_ID,
          parameters: { path: 'whatsapp-pass', mode: 'pass', emitStatus: false },
          credentials: uses,
        },
        { id: 'wahook-q-pass-send', name: 'Send WhatsApp', type: 'CUSTOM.whatsApp', typeVersion: 1, position: [220, 0], parameters: { operation: 'send', input: 'webhookBody', respond: true }, credentials: uses },
      ],
      connections: { 'Pass Trigger': { main: [[{ node: 'Send WhatsApp', type: 'main', index: 0 }], []] } },
    },
    replyInThreadWorkflow(
      { workflow: RECEIVED_WORKFLOW, name: 'Queue mode: WhatsApp Trigger replying in thread', trigger: RECEIVED_TRIGGER, reply: 'wahook-q-reply' },
      credential,
      { events: ['message'] },
    ),
    step(SEND_WORKFLOW, 'queue-send', { operation: 'send', input: 'fields', recipientField: 'phone', recipient: '={{ $json.body.phone }}', text: '={{ $json.body.text }}' }),
    step(LINK_WORKFLOW, 'queue-link', { operation: 'link', linkMethod: 'qr', linkTimeoutSeconds: 15 }),
  ];
}

const dir = tempDir('wahook-n8n-queue-');
let schema: ThrowawaySchema;
let store: PostgresStore;
/** The test's own workspace on the store: the account's first holder. */
let elsewhere: Workspace | undefined;
let pairing: PairingServer;
let linkUrl: string | undefined;
const processes: Record<'main' | 'worker' | 'webhook', N8nInstance> = {} as never;
let webhookUrl = '';
let dedicatedPort = 0;
const startedAt = Date.now();
const timings: string[] = [];

async function admin(database: string, text: string, values?: unknown[]): Promise<Record<string, unknown>[]> {
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${database}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  harness.n8nEntry();
  schema = throwawaySchema();
  store = schema.store();
  const credential = credentialFor(schema.name);
  // The account's first holder: this process, on the same schema with the credential's own options.
  const settings = settingsFromCredential(credential.data as unknown as Parameters<typeof settingsFromCredential>[0]);
  if (!settings.ok) throw new Error(settings.rejection.message);
  elsewhere = await Workspace.open(workspaceOptionsFor(settings.value, {}));
  await ensureDryRunAccounts(elsewhere, settings.value.dryRunPhones);

  await admin(pg.pathname.slice(1), `CREATE DATABASE "${N8N_DATABASE}"`);
  pairing = await pairingServer();
  const userFolder = join(dir.path, 'n8n');
  const [mainPort, webhookPort, workerPort] = [await harness.freePort(), await harness.freePort(), await harness.freePort()];
  dedicatedPort = await harness.freePort();
  webhookUrl = `http://localhost:${webhookPort}`;
  const shared: Record<string, string> = {
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: pg.hostname,
    DB_POSTGRESDB_PORT: pg.port || '5432',
    DB_POSTGRESDB_DATABASE: N8N_DATABASE,
    DB_POSTGRESDB_USER: decodeURIComponent(pg.username),
    DB_POSTGRESDB_PASSWORD: decodeURIComponent(pg.password),
    EXECUTIONS_MODE: 'queue',
    QUEUE_BULL_REDIS_HOST: REDIS.host,
    QUEUE_BULL_REDIS_PORT: REDIS.port,
    QUEUE_BULL_PREFIX: `wahook-e2e-${run}`,
    // Production URLs point at the webhook process, as a load balancer would route /webhook/ there.
    WEBHOOK_URL: `${webhookUrl}/`,
    WAHOOK_WA_WEBSOCKET_URL: pairing.webSocketUrl,
    // The worker's lines "Worker started execution …" name what it ran.
    N8N_LOG_LEVEL: 'info',
  };
  let at = Date.now();
  const cliEnv = harness.n8nEnv({ userFolder, port: mainPort, brokerPort: await harness.freePort(), extraEnv: shared });
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(userFolder, { recursive: true });
  writeFileSync(join(dir.path, 'credentials.json'), JSON.stringify([credential]));
  writeFileSync(join(dir.path, 'workflows.json'), JSON.stringify(workflowsFor(credential, dedicatedPort)));
  await harness.n8nCli(cliEnv, ['import:credentials', `--input=${join(dir.path, 'credentials.json')}`]);
  await harness.n8nCli(cliEnv, ['import:workflow', `--input=${join(dir.path, 'workflows.json')}`]);
  // What `n8n publish:workflow --id=…` does (WorkflowRepository.publishVersion: the current version becomes
  // the active one), for every workflow in one statement instead of one n8n start per workflow (~6 s each).
  const ids = [TRIGGER_WORKFLOW, PORT_WORKFLOW, BATCH_WORKFLOW, PASS_WORKFLOW, RECEIVED_WORKFLOW, SEND_WORKFLOW, LINK_WORKFLOW];
  const published = await admin(
    N8N_DATABASE,
    `UPDATE workflow_entity w SET active = true, "activeVersionId" = w."versionId"
       WHERE w.id = ANY($1) AND NOT w."isArchived" AND EXISTS (SELECT 1 FROM workflow_history h WHERE h."workflowId" = w.id AND h."versionId" = w."versionId")
       RETURNING w.id`,
    [ids],
  );
  if (published.length !== ids.length) throw new Error(`Published ${published.length} of ${ids.length} imported workflows.`);
  timings.push(`imports ${((Date.now() - at) / 1000).toFixed(1)} s`);
  at = Date.now();
  // The main first: it migrates n8n's database and activates the workflows (writing their webhooks).
  processes.main = await harness.startN8n({ userFolder, port: mainPort, extraEnv: shared, detached: true });
  timings.push(`main ${((Date.now() - at) / 1000).toFixed(1)} s`);
  at = Date.now();
  [processes.worker, processes.webhook] = await Promise.all([
    harness.startN8n({ userFolder, port: workerPort, extraEnv: shared, detached: true, command: 'worker' }),
    harness.startN8n({ userFolder, port: webhookPort, extraEnv: shared, detached: true, command: 'webhook' }),
  ]);
  timings.push(`worker and webhook ${((Date.now() - at) / 1000).toFixed(1)} s`);
  await triggerServed();
});

afterAll(async () => {
  // WAHOOK_N8N_LOGS=<folder> keeps each process's output there.
  const keep = process.env.WAHOOK_N8N_LOGS;
  if (keep) {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(keep, { recursive: true });
    for (const [role, n8n] of Object.entries(processes)) writeFileSync(join(keep, `n8n-${role}.log`), n8n.output());
  }
  await Promise.allSettled(Object.values(processes).map((n8n) => n8n.stop()));
  await elsewhere?.close();
  await pairing?.close();
  await schema?.drop();
  await admin(pg.pathname.slice(1), `DROP DATABASE IF EXISTS "${N8N_DATABASE}" WITH (FORCE)`).catch(() => undefined);
  dir.cleanup();
  process.stdout.write(`n8n queue mode end-to-end: ${((Date.now() - startedAt) / 1000).toFixed(1)} s (${timings.join(', ')})\n`);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`Timed out after ${ms} ms waiting for ${what}.\n${logs()}`);
    await sleep(200);
  }
}

/** The last lines of every n8n process's output, for a failure's message. */
function logs(): string {
  return Object.entries(processes)
    .map(([role, n8n]) => `--- n8n ${role} (pid ${n8n.child.pid}):\n${n8n.output().slice(-3000)}`)
    .join('\n');
}

interface Answer {
  status: number;
  body: unknown;
}

async function post(base: string, path: string, body: unknown): Promise<Answer> {
  const response = await fetch(`${base}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

const triggerPath = (token = TOKEN) => `${TRIGGER_WEBHOOK_ID}/whatsapp/${token}`;

/** The webhook process answers the trigger's URL as ours (our 404 body for a wrong token, not n8n's). */
async function triggerServed(): Promise<void> {
  await waitFor('the webhook process to serve the trigger', async () => {
    const answer = await post(webhookUrl, triggerPath('probe'), {}).catch(() => undefined);
    return answer?.status === 404 && (answer.body as { data?: unknown }).data !== undefined;
  }, 60_000);
}

const roleOf = (text: string | undefined): string | undefined => {
  const pid = / pid (\d+) /.exec(text ?? '')?.[1];
  if (pid === undefined) return undefined;
  if (Number(pid) === process.pid) return 'test process';
  return Object.entries(processes).find(([, n8n]) => n8n.child.pid === Number(pid))?.[0];
};

/** Which process holds the dry-run account now. */
async function holder(): Promise<string | undefined> {
  return roleOf(await store.ownership.ownerOf(ACCOUNT_ID, Date.now()));
}

/** The process whose workspace wrote the message's first change (its acceptance). */
async function acceptedBy(messageId: string): Promise<string | undefined> {
  // The journal writes a process's changes a few ms after it made them.
  const first = await waitFor(`the change feed to show ${messageId}`, async () => {
    const [row] = await schema.admin<{ payload: string }>(`SELECT payload FROM "${schema.name}".changes WHERE payload LIKE $1 ORDER BY seq LIMIT 1`, [`%${internal(messageId)}%`]);
    return row && (JSON.parse(row.payload) as { origin?: string; kind?: string; change?: { status?: string } });
  });
  expect(first).toMatchObject({ kind: 'message', change: { status: 'queued' } });
  return roleOf(first.origin);
}

const internal = (messageId: string) => messageId.replace('wa_backend:', '');

/** The dry-run account's record of the message, once it was handed over. */
async function delivered(messageId: string): Promise<void> {
  const id = internal(messageId);
  const record = await waitFor(`the dry-run account to send ${messageId}`, async () => (await store.dryRun.list()).find((entry) => entry.id === id));
  expect(record).toMatchObject({ accountId: ACCOUNT_ID, times: 1 });
  const status = await waitFor(`${messageId} to be delivered`, async () => {
    const [row] = await schema.admin<{ status: string }>(`SELECT status FROM "${schema.name}".messages WHERE id = $1`, [id]);
    return row?.status === 'delivered' && row.status;
  });
  expect(status).toBe('delivered');
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const flatted = createRequire(join(harness.n8nDir(), 'node_modules', 'n8n', 'package.json'))('flatted') as { parse(text: string): unknown };

interface RunData {
  resultData?: { runData?: Record<string, { data?: { main?: ({ json?: Record<string, unknown>; binary?: Record<string, unknown> }[] | null)[] } }[]> };
}

interface Execution {
  id: number;
  status: string;
  mode: string;
  /** The items node `node` output on its first run. */
  items(node: string): { json?: Record<string, unknown>; binary?: Record<string, unknown> }[];
}

/** The executions n8n recorded for a workflow, read from its PostgreSQL database. */
async function executions(workflowId: string): Promise<Execution[]> {
  const rows = await admin(N8N_DATABASE, 'SELECT e.id, e.status, e.mode, d.data FROM execution_entity e LEFT JOIN execution_data d ON d."executionId" = e.id WHERE e."workflowId" = $1 ORDER BY e.id', [workflowId]);
  return rows.map((row) => {
    const data = typeof row.data === 'string' ? (flatted.parse(row.data) as RunData) : {};
    return {
      id: Number(row.id),
      status: String(row.status),
      mode: String(row.mode),
      items: (node) => data.resultData?.runData?.[node]?.[0]?.data?.main?.[0] ?? [],
    };
  });
}

/** The worker's log says it ran this execution. */
const ranOnWorker = (execution: Execution) => processes.worker.output().includes(`Worker started execution ${execution.id} `);

/** The process whose log says it put this execution on the queue ("Enqueued execution <id> (job …)"). */
const enqueuedBy = (execution: Execution) =>
  Object.entries(processes).find(([, n8n]) => n8n.output().includes(`Enqueued execution ${execution.id} (`))?.[0];

/** The successful execution of the trigger workflow whose Status node got `status` for `messageId`. */
async function statusExecution(messageId: string, status: string): Promise<Execution> {
  return waitFor(`the Status output's execution with ${messageId} ${status}`, async () =>
    (await executions(TRIGGER_WORKFLOW)).find(
      (execution) => execution.status === 'success' && execution.items('Status').some((item) => item.json?.message_id === messageId && item.json.status === status),
    ),
  );
}

describe('n8n in queue mode: main, worker and webhook process on PostgreSQL', () => {
  it("the trigger's production URL answers on the webhook process; the Status output fires on the main for a message another process sent", async () => {
    expect(await holder()).toBe('test process');
    const answer = await post(webhookUrl, triggerPath(), { action: 'send', phone: '+14151231234', text: 'queue mode: via the webhook process' });
    expect(answer).toEqual({ status: 200, body: { status: 'success', data: { message_id: expect.stringMatching(MESSAGE_ID) } } });
    const messageId = (answer.body as { data: { message_id: string } }).data.message_id;
    expect(await acceptedBy(messageId)).toBe('webhook');
    await delivered(messageId);
    // Sent by the test process's workspace; the main heard it through the store's change feed.
    const status = await statusExecution(messageId, 'delivered');
    expect(status.mode).toBe('trigger');
    expect(enqueuedBy(status)).toBe('main');
    expect(ranOnWorker(status)).toBe(true);
    // The Accepted output: the execution the webhook process queued, run on the worker.
    const accepted = await waitFor('the Accepted execution', async () =>
      (await executions(TRIGGER_WORKFLOW)).find((execution) => execution.items('Accepted').some((item) => item.json?.message_id === messageId)),
    );
    expect(accepted.status).toBe('success');
    expect(enqueuedBy(accepted)).toBe('webhook');
    expect(ranOnWorker(accepted)).toBe(true);
  });

  it('the WhatsApp Trigger on the main emits what the process holding the account received (through the store); the worker replies in thread', async () => {
    expect(await holder()).toBe('test process');
    // The main's trigger has started (it writes its place in the store): from then on it emits what arrives.
    await waitFor('the WhatsApp Trigger to start on the main', async () => (await store.feed.cursor(readerKey(RECEIVED_WORKFLOW, RECEIVED_TRIGGER))) !== undefined, 60_000);
    const messages = [incomingText({ text: 'queue mode: received one' }), incomingText({ text: 'queue mode: received two' })];
    for (const message of messages) elsewhere!.received.take(ACCOUNT_ID, message);
    await elsewhere!.received.settled();
    const runs = await waitFor('an execution per received message', async () => {
      const all = (await executions(RECEIVED_WORKFLOW)).filter((execution) => execution.status === 'success');
      return all.length >= messages.length && all;
    }, 60_000);
    expect(runs.map((execution) => execution.items(RECEIVED_TRIGGER.name)[0]?.json?.id).sort()).toEqual(messages.map((message) => message.id).sort());
    for (const execution of runs) {
      expect(execution.mode).toBe('trigger');
      expect(enqueuedBy(execution)).toBe('main');
      expect(ranOnWorker(execution)).toBe(true);
    }
    // Each reply quotes its message, and the account's holder (this process) sent it once.
    for (const message of messages) {
      const [reply] = await waitFor(`the reply to ${message.id}`, async () => {
        const rows = await schema.admin<{ id: string; text: string }>(`SELECT id, text FROM "${schema.name}".messages WHERE quoted_id = $1`, [message.id]);
        return rows.length > 0 && rows;
      });
      expect(reply!.text).toBe(`re: ${message.text}`);
      await delivered(reply!.id);
    }
    expect(await executions(RECEIVED_WORKFLOW)).toHaveLength(messages.length);
  });

  it('an n8n process takes the account over once the other holder lets go', async () => {
    const letGo = Date.now();
    await elsewhere!.close();
    elsewhere = undefined;
    const role = await waitFor('an n8n process to hold the account', async () => {
      const now = await holder();
      return now !== undefined && now !== 'test process' && now;
    });
    expect(['main', 'worker', 'webhook']).toContain(role);
    timings.push(`take-over by the ${role} in ${((Date.now() - letGo) / 1000).toFixed(1)} s`);
  });

  it("the trigger's URL on the webhook process, sent by the n8n process that holds the account, and its Status reaches the main", async () => {
    const answer = await post(webhookUrl, triggerPath(), { action: 'send', phone: '+14151231234', text: 'queue mode: sent by n8n' });
    expect(answer).toEqual({ status: 200, body: { status: 'success', data: { message_id: expect.stringMatching(MESSAGE_ID) } } });
    const messageId = (answer.body as { data: { message_id: string } }).data.message_id;
    await delivered(messageId);
    await statusExecution(messageId, 'delivered');
  });

  it('a workflow with a Send Message step runs on the worker and its message is delivered', async () => {
    const before = new Set((await executions(SEND_WORKFLOW)).map((execution) => execution.id));
    const answer = await post(webhookUrl, 'queue-send', { phone: '+14151231234', text: 'queue mode: a Send step on the worker' });
    expect(answer.status).toBe(200);
    const messageId = (answer.body as { response?: { body?: { data?: { message_id?: string } } } }).response?.body?.data?.message_id ?? '';
    expect(messageId).toMatch(MESSAGE_ID);
    expect(await acceptedBy(messageId)).toBe('worker');
    const [execution] = (await executions(SEND_WORKFLOW)).filter((candidate) => !before.has(candidate.id));
    expect(execution).toMatchObject({ status: 'success' });
    expect(enqueuedBy(execution!)).toBe('webhook');
    expect(ranOnWorker(execution!)).toBe(true);
    await delivered(messageId);
    await statusExecution(messageId, 'delivered');
  });

  it('"Pass to workflow": the webhook process passes the call on, the Send step on the worker sends and answers it', async () => {
    const answer = await post(webhookUrl, `${PASS_WEBHOOK_ID}/whatsapp-pass/${TOKEN}`, { action: 'send', phone: '+14151231234', text: 'queue mode: pass to workflow' });
    expect(answer).toEqual({ status: 200, body: { status: 'success', data: { message_id: expect.stringMatching(MESSAGE_ID) } } });
    const messageId = (answer.body as { data: { message_id: string } }).data.message_id;
    expect(await acceptedBy(messageId)).toBe('worker');
    await delivered(messageId);
    // A refusal from the Send step is answered with its status and sentence, from the worker too.
    expect(await post(webhookUrl, `${PASS_WEBHOOK_ID}/whatsapp-pass/${TOKEN}`, { action: 'send', chat_id: 4, text: 'x' })).toEqual({
      status: 422,
      body: { status: 422, data: {}, message: 'Field "chat_id" is 4, but no chat with that id exists in this workspace; list the chats to find its id.' },
    });
  });

  it('Link Account run on the worker returns the QR its socket got from (fake) WhatsApp Web', async () => {
    const answer = await post(webhookUrl, 'queue-link', {});
    expect(answer.status).toBe(200);
    const item = answer.body as { status?: string; qr?: string; method?: string };
    expect(item).toMatchObject({ status: 'waiting_for_phone', method: 'qr' });
    linkUrl = (item as { link_url?: string }).link_url;
    // The trigger's link route, on the production URL: the webhook process.
    expect(linkUrl?.startsWith(`${webhookUrl}/webhook/`)).toBe(true);
    // Baileys' QR: the server's first ref, then the device's noise key, identity key and secret.
    expect(item.qr?.startsWith(`https://wa.me/settings/linked_devices#${pairing.refs[0]},`)).toBe(true);
    expect(pairing.connections()).toBeGreaterThan(0);
    const [execution] = (await executions(LINK_WORKFLOW)).slice(-1);
    expect(execution).toMatchObject({ status: 'success' });
    expect(ranOnWorker(execution!)).toBe(true);
    expect(execution!.items('WhatsApp')[0]?.binary?.qr).toMatchObject({ mimeType: 'image/png', fileName: 'whatsapp-link-qr.png' });
  });

  it("the Link Account step's link page opens on the webhook process and shows the worker's live QR, once", async () => {
    const page = await fetch(linkUrl!);
    const html = await page.text();
    expect(page.status).toBe(200);
    const view = /encodeURIComponent\("([A-Za-z0-9_-]{43})"\)/.exec(html)?.[1];
    expect(view).toBeDefined();
    const poll = await fetch(`${linkUrl}?view=${encodeURIComponent(view!)}`);
    expect(poll.status).toBe(200);
    // The QR the worker's socket got, as a PNG data URL, read by the webhook process from the store.
    expect(await poll.json()).toMatchObject({ status: 'waiting', qr: expect.stringMatching(/^data:image\/png;base64,/) });
    const again = await fetch(linkUrl!);
    expect(again.status).toBe(404);
    expect(await again.text()).toContain(LINK_PAGE_SENTENCES.used.replace(/'/g, '&#39;'));
  });

  it('a trigger with a Dedicated Port: one execution per message, whether it came through the webhook process or the port (on the main)', async () => {
    const viaRoute = await post(webhookUrl, `${PORT_WEBHOOK_ID}/whatsapp-port/${TOKEN}`, { action: 'send', phone: '+14151231234', text: 'queue mode: n8n route of a port trigger' });
    expect(viaRoute.status).toBe(200);
    const viaPort = await fetch(`http://127.0.0.1:${dedicatedPort}/whatsapp/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'queue mode: the dedicated port' }),
    });
    expect(viaPort.status).toBe(200);
    const ids = [(viaRoute.body as { data: { message_id: string } }).data.message_id, ((await viaPort.json()) as { data: { message_id: string } }).data.message_id];
    const emittedIds = async () => (await executions(PORT_WORKFLOW)).flatMap((execution) => execution.items('Port Accepted').map((item) => item.json?.message_id));
    await waitFor('both messages to be executed', async () => {
      const all = await emittedIds();
      return ids.every((id) => all.includes(id));
    });
    // A duplicate would come a moment later: give it the time the first took.
    await sleep(3000);
    expect((await emittedIds()).sort()).toEqual([...ids].sort());
    // Both from the main's trigger, which follows the feed.
    for (const run of await executions(PORT_WORKFLOW)) expect(enqueuedBy(run)).toBe('main');
  });

  it('a trigger emitting in batches: what the webhook process accepted is emitted by the main, several messages per execution, each once', async () => {
    const answers = await Promise.all(
      [1, 2, 3].map((n) => post(webhookUrl, `${BATCH_WEBHOOK_ID}/whatsapp-batch/${TOKEN}`, { action: 'send', phone: '+14151231234', text: `queue mode: batch ${n}` })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const ids = answers.map((answer) => (answer.body as { data: { message_id: string } }).data.message_id);
    const emitted = async () => {
      const runs = (await executions(BATCH_WORKFLOW)).filter((execution) => execution.items('Batch Accepted').length > 0);
      return { runs, ids: runs.flatMap((execution) => execution.items('Batch Accepted').map((item) => item.json?.message_id)) };
    };
    await waitFor('the batch to be executed', async () => {
      const { ids: all } = await emitted();
      return ids.every((id) => all.includes(id));
    });
    await sleep(2500);
    const { runs, ids: all } = await emitted();
    expect([...all].sort()).toEqual([...ids].sort());
    // One window in general; two when the calls straddle a window's end.
    expect(runs.length).toBeLessThan(ids.length);
    for (const run of runs) {
      expect(run).toMatchObject({ status: 'success', mode: 'trigger' });
      expect(enqueuedBy(run)).toBe('main');
    }
  });
});
