/**
 * The WhatsApp Cloud API account end to end in a real n8n 2.40.7 (scripts/n8n-install.sh): the WhatsApp
 * Workspace credential carries a Cloud API number (its four fields), and n8n's Graph API calls go
 * (WAHOOK_GRAPH_API_URL, in n8n's own environment) to a local fake Graph API (test/support/fake-graph-api.ts)
 * that checks them as the Cloud API documents them. One active workflow: the WhatsApp Inbound Webhook Trigger
 * ("Queue for sending", Status output on), its two outputs into No Op nodes so that each execution records
 * what the trigger emitted.
 *
 * Meta's webhook for the number is the trigger's production URL with `cloud-api` in place of the token:
 * the verification GET is answered with the challenge for the credential's verify token; a TimelinesAI
 * call on the trigger's token URL goes out through the Cloud API account; the fake then posts Meta's
 * signed `delivered` and `read` status webhooks to the cloud-api URL, and each one shows up as an
 * execution of the Status output. A POST that is not signed with the app secret is refused (401 naming
 * why, logged by n8n) and changes nothing. Everything over HTTP; the workspace's store and n8n's database
 * are only read.
 *
 * The same scenario runs twice: n8n in regular mode (one process, n8n's SQLite database, the workspace's
 * SQLite store), then in queue mode as in n8n-queue.e2e.test.ts (a main, a worker and a webhook process,
 * n8n's database in a throwaway PostgreSQL database, its queue in Redis, the workspace in a throwaway
 * schema). There the webhook process answers Meta's calls and takes the receipts, whichever process holds
 * the account sends, and the main's Status output hears the receipts through the store's change feed.
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { Client } from 'pg';
import { storePathFor } from '../../shared';
import { cloudApiAccountId } from '../../shared/transport/cloud-api/driver';
import { signBody } from '../../shared/transport/cloud-api/signature';
import { FakeGraphApi } from '../support/fake-graph-api';
import { TEST_PG_URL, throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import { tempDir } from '../support/temp';
import { harness, startImported, type N8nInstance } from './e2e-harness';
import { workspaceCredential } from './e2e-workflows';

jest.setTimeout(240_000);

const TOKEN = 'e2e-n8n-cloud-token-0123456789';
const VERIFY_TOKEN = 'e2e-cloud-verify-token';
const WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000e5';
const WORKFLOW_ID = 'wahookCloudWf001';
const TRIGGER_NAME = 'Cloud Trigger';
const MESSAGE_ID = /^wa_backend:3EB0[0-9A-F]{18}$/;
const REDIS = { host: process.env.WAHOOK_TEST_REDIS_HOST ?? '127.0.0.1', port: process.env.WAHOOK_TEST_REDIS_PORT ?? '6379' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const baseCredentialData = (graph: FakeGraphApi) => ({
  workspaceName: 'cloud',
  initialToken: TOKEN,
  quotaAllowance: 1000,
  // No dry-run account: the Cloud API number is the workspace's only account.
  dryRunPhones: '',
  cloudApiPhoneNumberId: graph.phoneNumberId,
  cloudApiAccessToken: graph.accessToken,
  cloudApiAppSecret: graph.appSecret,
  cloudApiVerifyToken: VERIFY_TOKEN,
});

const credentialWith = (data: Record<string, unknown>) => workspaceCredential('wahookCloudCred1', 'WhatsApp Workspace (Cloud API)', data);

const noOp = (name: string, y: number) => ({ id: `wahook-cloud-${name.toLowerCase()}`, name, type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [260, y], parameters: {} });
const workflowFor = (credential: { id: string; name: string }) => ({
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
});

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

function execution(row: { id: unknown; status: unknown; data: unknown }): Execution {
  const data = typeof row.data === 'string' ? (flatted.parse(row.data) as RunData) : {};
  return {
    id: Number(row.id),
    status: String(row.status),
    items: (node) => (data.resultData?.runData?.[node]?.[0]?.data?.main?.[0] ?? []).map((item) => item.json ?? {}),
  };
}

/** One way of running n8n with the workflow active, as the scenario sees it. */
interface Deployment {
  /** The trigger's production URL up to the token: `<n8n>/webhook/<webhook id>/whatsapp-cloud` (the webhook process in queue mode). */
  readonly base: string;
  /** The workflow's executions, in the order n8n created them. */
  executions(): Promise<Execution[]>;
  /** Our message's status in the workspace's store. */
  messageStatus(messageId: string): Promise<string | undefined>;
  failedMessages(): Promise<number>;
  /** When the Cloud API account was last opened (its number checked), 0 before. */
  accountConnectedAt(): Promise<number>;
  /** The output of the n8n process that answers production webhooks: it logs the refusals. */
  webhookOutput(): string;
  /** The last lines of every n8n process, for a failure's message. */
  logs(): string;
  /** In queue mode: which process did what. */
  readonly processes?: {
    /** The process whose workspace wrote each change of the message to the store's change feed, in order. */
    changesBy(messageId: string): Promise<{ status: string; by: string | undefined }[]>;
    /** The process whose log says it put the execution on the queue. */
    enqueuedBy(executionId: number): string | undefined;
    ranOnWorker(executionId: number): boolean;
  };
  stop(): Promise<void>;
}

/** n8n in regular mode: one process, n8n's SQLite database, the workspace's SQLite store in a data folder. */
async function regularMode(graph: FakeGraphApi): Promise<Deployment> {
  const dir = tempDir('wahook-n8n-cloud-');
  const dataFolder = join(dir.path, 'data');
  const storePath = storePathFor(dataFolder, 'cloud');
  const credential = credentialWith({ ...baseCredentialData(graph), dataFolder });
  const { n8n, userFolder } = await startImported(dir.path, [credential], [workflowFor(credential)], { WAHOOK_GRAPH_API_URL: graph.baseUrl });
  /** Reads a SQLite file as n8n leaves it (read-only; n8n keeps it open). Undefined before n8n made it. */
  const read = <T>(path: string, query: (db: DatabaseSync) => T): T | undefined => {
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { readOnly: true });
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
  };
  return {
    base: `${n8n.url}/webhook/${WEBHOOK_ID}/whatsapp-cloud`,
    executions: async () =>
      (
        read(join(userFolder, '.n8n', 'database.sqlite'), (db) =>
          db.prepare('SELECT e.id AS id, e.status AS status, d.data AS data FROM execution_entity e LEFT JOIN execution_data d ON d.executionId = e.id WHERE e.workflowId = ? ORDER BY e.id').all(WORKFLOW_ID),
        ) ?? []
      ).map((row) => execution(row as { id: unknown; status: unknown; data: unknown })),
    messageStatus: async (messageId) =>
      read(storePath, (db) => (db.prepare('SELECT status FROM messages WHERE id = ?').get(messageId.replace('wa_backend:', '')) as { status: string } | undefined)?.status),
    failedMessages: async () => read(storePath, (db) => (db.prepare("SELECT COUNT(*) AS n FROM messages WHERE status = 'failed'").get() as { n: number }).n) ?? 0,
    accountConnectedAt: async () =>
      read(storePath, (db) => (db.prepare('SELECT connected_at FROM accounts WHERE id = ?').get(cloudApiAccountId(graph.phoneNumberId)) as { connected_at: number | null } | undefined)?.connected_at) ?? 0,
    webhookOutput: () => n8n.output(),
    logs: () => n8n.output().slice(-4000),
    stop: async () => {
      // WAHOOK_N8N_LOGS=<folder> keeps n8n's output there.
      const keep = process.env.WAHOOK_N8N_LOGS;
      if (keep) {
        mkdirSync(keep, { recursive: true });
        writeFileSync(join(keep, 'n8n-cloud-api.log'), n8n.output());
      }
      await n8n.stop();
      dir.cleanup();
    },
  };
}

/**
 * n8n in queue mode, as n8n-queue.e2e.test.ts starts it: a main, a worker and a webhook process, n8n's
 * database in a PostgreSQL database of this run, its Bull queue in Redis under a prefix of its own, and the
 * workspace in a throwaway schema of the test database.
 */
async function queueMode(graph: FakeGraphApi): Promise<Deployment> {
  harness.n8nEntry();
  const dir = tempDir('wahook-n8n-cloud-queue-');
  const pg = new URL(TEST_PG_URL);
  const run = randomBytes(5).toString('hex');
  const database = `wahook_n8n_cloud_${run}`;
  const admin = async (db: string, text: string, values?: unknown[]): Promise<Record<string, unknown>[]> => {
    const url = new URL(TEST_PG_URL);
    url.pathname = `/${db}`;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const schema: ThrowawaySchema = throwawaySchema();
  // The schema's tables, made once here rather than by three n8n processes opening it at the same moment.
  const store = schema.store();
  await store.accounts.list();
  const credential = credentialWith({
    ...baseCredentialData(graph),
    storeKind: 'postgres',
    pgHost: pg.hostname,
    pgPort: Number(pg.port || 5432),
    pgDatabase: pg.pathname.slice(1),
    pgUser: decodeURIComponent(pg.username),
    pgPassword: decodeURIComponent(pg.password),
    pgSsl: 'off',
    pgSchema: schema.name,
    dataFolder: '',
  });
  await admin(pg.pathname.slice(1), `CREATE DATABASE "${database}"`);
  const processes: Partial<Record<'main' | 'worker' | 'webhook', N8nInstance>> = {};
  const cleanup = async () => {
    const keep = process.env.WAHOOK_N8N_LOGS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const [role, n8n] of Object.entries(processes)) writeFileSync(join(keep, `n8n-cloud-api-queue-${role}.log`), n8n.output());
    }
    await Promise.allSettled(Object.values(processes).map((n8n) => n8n.stop()));
    await schema.drop();
    await admin(pg.pathname.slice(1), `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    dir.cleanup();
  };
  try {
    const userFolder = join(dir.path, 'n8n');
    const [mainPort, webhookPort, workerPort] = [await harness.freePort(), await harness.freePort(), await harness.freePort()];
    const webhookUrl = `http://localhost:${webhookPort}`;
    const shared: Record<string, string> = {
      DB_TYPE: 'postgresdb',
      DB_POSTGRESDB_HOST: pg.hostname,
      DB_POSTGRESDB_PORT: pg.port || '5432',
      DB_POSTGRESDB_DATABASE: database,
      DB_POSTGRESDB_USER: decodeURIComponent(pg.username),
      DB_POSTGRESDB_PASSWORD: decodeURIComponent(pg.password),
      EXECUTIONS_MODE: 'queue',
      QUEUE_BULL_REDIS_HOST: REDIS.host,
      QUEUE_BULL_REDIS_PORT: REDIS.port,
      QUEUE_BULL_PREFIX: `wahook-e2e-cloud-${run}`,
      // Production URLs point at the webhook process, as a load balancer would route /webhook/ there.
      WEBHOOK_URL: `${webhookUrl}/`,
      WAHOOK_GRAPH_API_URL: graph.baseUrl,
      // The lines "Enqueued execution …" and "Worker started execution …" name who queued and who ran what.
      N8N_LOG_LEVEL: 'info',
    };
    const cliEnv = harness.n8nEnv({ userFolder, port: mainPort, brokerPort: await harness.freePort(), extraEnv: shared });
    mkdirSync(userFolder, { recursive: true });
    writeFileSync(join(dir.path, 'credentials.json'), JSON.stringify([credential]));
    writeFileSync(join(dir.path, 'workflows.json'), JSON.stringify([workflowFor(credential)]));
    await harness.n8nCli(cliEnv, ['import:credentials', `--input=${join(dir.path, 'credentials.json')}`]);
    await harness.n8nCli(cliEnv, ['import:workflow', `--input=${join(dir.path, 'workflows.json')}`]);
    // What `n8n publish:workflow` does, in one statement instead of one more n8n start (see n8n-queue.e2e.test.ts).
    const published = await admin(
      database,
      `UPDATE workflow_entity w SET active = true, "activeVersionId" = w."versionId"
         WHERE w.id = $1 AND NOT w."isArchived" AND EXISTS (SELECT 1 FROM workflow_history h WHERE h."workflowId" = w.id AND h."versionId" = w."versionId")
         RETURNING w.id`,
      [WORKFLOW_ID],
    );
    if (published.length !== 1) throw new Error('The imported workflow could not be published.');
    // The main first: it migrates n8n's database and activates the workflow (writing its webhooks).
    processes.main = await harness.startN8n({ userFolder, port: mainPort, extraEnv: shared, detached: true });
    [processes.worker, processes.webhook] = await Promise.all([
      harness.startN8n({ userFolder, port: workerPort, extraEnv: shared, detached: true, command: 'worker' }),
      harness.startN8n({ userFolder, port: webhookPort, extraEnv: shared, detached: true, command: 'webhook' }),
    ]);
    const row = async <T>(text: string, values: unknown[]) => (await schema.admin<T>(text.replace(/\$schema/g, `"${schema.name}"`), values))[0];
    return {
      base: `${webhookUrl}/webhook/${WEBHOOK_ID}/whatsapp-cloud`,
      executions: async () =>
        (await admin(database, 'SELECT e.id, e.status, d.data FROM execution_entity e LEFT JOIN execution_data d ON d."executionId" = e.id WHERE e."workflowId" = $1 ORDER BY e.id', [WORKFLOW_ID])).map((r) =>
          execution(r as { id: unknown; status: unknown; data: unknown }),
        ),
      messageStatus: async (messageId) => (await row<{ status: string }>('SELECT status FROM $schema.messages WHERE id = $1', [messageId.replace('wa_backend:', '')]))?.status,
      failedMessages: async () => Number((await row<{ n: string }>("SELECT COUNT(*) AS n FROM $schema.messages WHERE status = 'failed'", []))?.n ?? 0),
      accountConnectedAt: async () => Number((await row<{ connected_at: string | null }>('SELECT connected_at FROM $schema.accounts WHERE id = $1', [cloudApiAccountId(graph.phoneNumberId)]))?.connected_at ?? 0),
      webhookOutput: () => processes.webhook!.output(),
      logs: () =>
        Object.entries(processes)
          .map(([role, n8n]) => `--- n8n ${role}:\n${n8n.output().slice(-3000)}`)
          .join('\n'),
      processes: {
        changesBy: async (messageId) => {
          const rows = await schema.admin<{ payload: string }>(`SELECT payload FROM "${schema.name}".changes WHERE payload LIKE $1 ORDER BY seq`, [`%${messageId.replace('wa_backend:', '')}%`]);
          return rows
            .map((r) => JSON.parse(r.payload) as { origin?: string; kind?: string; change?: { status?: string } })
            .filter((change) => change.kind === 'message')
            .map((change) => {
              const pid = Number(/ pid (\d+) /.exec(change.origin ?? '')?.[1]);
              return { status: String(change.change?.status), by: Object.entries(processes).find(([, n8n]) => n8n.child.pid === pid)?.[0] };
            });
        },
        enqueuedBy: (id) => Object.entries(processes).find(([, n8n]) => n8n.output().includes(`Enqueued execution ${id} (`))?.[0],
        ranOnWorker: (id) => processes.worker!.output().includes(`Worker started execution ${id} `),
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
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

/** The three proofs, against one deployment. */
function scenario(name: string, deploy: (graph: FakeGraphApi) => Promise<Deployment>): void {
  describe(name, () => {
    const graph = new FakeGraphApi();
    let n8n: Deployment | undefined;
    let startedAt = 0;
    const cloudUrl = () => `${n8n!.base}/cloud-api`;
    /** The message sent in (b), for (c). */
    let sent: { messageId: string; wamid: string } | undefined;

    const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`Not within ${timeoutMs / 1000} s: ${what}\nn8n said:\n${n8n?.logs()}`);
        await sleep(250);
      }
    };

    /** The Status output's items for one message, each from a finished execution (its id beside it), in the order the changes happened. */
    const statusRuns = async (messageId: string) =>
      (await n8n!.executions())
        .filter((each) => each.status === 'success')
        .flatMap((each) => each.items('Status').map((item) => ({ item, execution: each.id })))
        .filter(({ item }) => item.message_id === messageId)
        .sort((a, b) => String(a.item.at).localeCompare(String(b.item.at)));
    const statusItems = async (messageId: string) => (await statusRuns(messageId)).map(({ item }) => item);

    beforeAll(async () => {
      startedAt = Date.now();
      await graph.start();
      n8n = await deploy(graph);
      // n8n reports ready before it has activated the workflow, and the account opens once the number check
      // at the (fake) Graph API answers: wait for both (our 404 body on the route, the account open in the store).
      await until('the trigger to serve its route', async () => {
        const answer = await fetch(`${n8n!.base}/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then(
          async (response) => ({ status: response.status, body: (await response.json().catch(() => undefined)) as { data?: unknown } | undefined }),
          () => undefined,
        );
        return answer?.status === 404 && answer.body?.data !== undefined;
      });
      await until('the Cloud API account to be opened (the number check at the fake Graph API)', async () => (await n8n!.accountConnectedAt()) > 0);
    });

    afterAll(async () => {
      await n8n?.stop();
      await graph.close();
      process.stdout.write(`n8n Cloud API end-to-end, ${name}: ${((Date.now() - startedAt) / 1000).toFixed(1)} s including imports and start\n`);
    });

    it("answers Meta's verification GET at the cloud-api URL with the challenge as text, and 403 with the reason for a wrong verify token", async () => {
      const right = await call(`${cloudUrl()}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(VERIFY_TOKEN)}&hub.challenge=12345`);
      expect(right).toEqual({ status: 200, contentType: expect.stringMatching(/^text\/plain/), text: '12345' });

      const wrong = await call(`${cloudUrl()}?hub.mode=subscribe&hub.verify_token=not-the-token&hub.challenge=12345`);
      expect(wrong.status).toBe(403);
      expect(wrong.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(wrong.text)).toEqual(errorBody(403, 'The webhook verification was refused: hub.verify_token does not match.'));
      await until('n8n to log the refusal', () => n8n!.webhookOutput().includes('WhatsApp Cloud API webhook: The webhook verification was refused: hub.verify_token does not match.'), 10_000);
    });

    it('sends a TimelinesAI call through the Graph API as documented; the signed delivered and read webhooks move it on and show on the Status output', async () => {
      // A second between the send and each receipt, as Meta's come: by then the sender has recorded the wamid.
      graph.receipts = { url: cloudUrl(), delayMs: 1000 };
      const answer = await call(`${n8n!.base}/${TOKEN}`, {
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
      await until('the message to be read in the store', async () => (await n8n!.messageStatus(messageId)) === 'read');

      // One Status execution per change of our message: sent, delivered, read, for the Cloud API account.
      await until('the Status output to show read', async () => (await statusItems(messageId)).some((item) => item.status === 'read'));
      const items = await statusItems(messageId);
      expect(items.map((item) => item.status)).toEqual(['sent', 'delivered', 'read']);
      for (const item of items) expect(item).toMatchObject({ message_id: messageId, account_id: cloudApiAccountId(graph.phoneNumberId), reason: null });
      if (n8n!.processes) {
        const { changesBy, enqueuedBy, ranOnWorker } = n8n!.processes;
        // Meta's webhook reached the webhook process, which took the receipts (a store operation, whoever sent);
        // the main heard them through the store's change feed, and its Status executions ran on the worker.
        const changes = await changesBy(messageId);
        expect(changes.filter((change) => change.status === 'delivered' || change.status === 'read')).toEqual([
          { status: 'delivered', by: 'webhook' },
          { status: 'read', by: 'webhook' },
        ]);
        // The send: the webhook process accepted the call; the process holding the account sent it.
        expect(changes[0]).toEqual({ status: 'queued', by: 'webhook' });
        expect(['main', 'worker', 'webhook']).toContain(changes.find((change) => change.status === 'sent')?.by);
        for (const { execution } of await statusRuns(messageId)) {
          expect(enqueuedBy(execution)).toBe('main');
          expect(ranOnWorker(execution)).toBe(true);
        }
      }
      // The Accepted output had its execution too, with the same id.
      expect((await n8n!.executions()).some((each) => each.items('Accepted').some((item) => item.message_id === messageId))).toBe(true);
      await until('every execution to finish', async () => (await n8n!.executions()).every((each) => each.status !== 'new' && each.status !== 'running'));
      // Four in all: Accepted, and Status for sent, delivered and read.
      expect((await n8n!.executions()).map((each) => each.status)).toEqual(Array(4).fill('success'));
      graph.receipts = undefined;
      sent = { messageId, wamid };
    });

    it('refuses a POST not signed with the app secret with 401 naming why, logs it, and changes nothing', async () => {
      expect(sent).toBeDefined();
      const { messageId, wamid } = sent!;
      const before = (await n8n!.executions()).length;
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
      await until('n8n to log the refusal', () => n8n!.webhookOutput().includes(`WhatsApp Cloud API webhook: ${refusal}`), 10_000);

      // Nothing moved: the message is still read, and no execution started (a change would have run the Status output).
      await sleep(3_000);
      expect(await n8n!.messageStatus(messageId)).toBe('read');
      expect((await statusItems(messageId)).map((item) => item.status)).toEqual(['sent', 'delivered', 'read']);
      expect(await n8n!.executions()).toHaveLength(before);
      expect(await n8n!.failedMessages()).toBe(0);
    });
  });
}

scenario('regular mode (one process, SQLite)', regularMode);
scenario('queue mode (main, worker and webhook process on PostgreSQL and Redis)', queueMode);
