/**
 * The WhatsApp Trigger (received messages) in a real n8n 2.40.7 (scripts/n8n-install.sh), single process,
 * the workspace in a throwaway PostgreSQL schema. The test process holds the dry-run account (a second
 * process on the store, as a `wahook serve` or another n8n process would be; n8n runs with
 * WAHOOK_OWN_ACCOUNTS=false and never connects it) and receives messages through
 * workspace.received.take, as a transport reports them. n8n's trigger reads them from the store (woken by
 * the change feed) and each execution replies in thread through the WhatsApp Send step
 * (chat_id = {{$json.chat_id}}, quoted_message_id = {{$json.id}}), which the test process sends.
 *
 * n8n is stopped (SIGTERM, as a deploy or `systemctl restart` does) and started again on the same folder
 * while messages keep arriving: every message must be executed exactly once, counted from n8n's own
 * execution records by the message id the trigger emitted, and replied to once, quoting it.
 */
import { createRequire } from 'node:module';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { PostgresStore } from '../../shared/store/postgres';
import { Workspace } from '../../shared/workspace/workspace';
import { readerKey } from '../../nodes/n8n/WhatsAppMessageTrigger/WhatsAppMessageTrigger.node';
import { incomingText } from '../support/incoming';
import { TEST_PG_URL, throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import { tempDir } from '../support/temp';
import { harness, startImported, type N8nInstance } from './e2e-harness';
import { replyInThreadWorkflow } from './e2e-workflows';

jest.setTimeout(280_000);

const ACCOUNT_ID = 'dry-run-15105566777';
const WORKFLOW_ID = 'wahookRecvWf0001';
const TRIGGER = { id: 'wahook-recv-trigger', name: 'WhatsApp Trigger' };
const READER = readerKey(WORKFLOW_ID, TRIGGER);
/** Messages before the restart; then one every INJECT_EVERY_MS while n8n stops and starts, and AFTER more once it is back. */
const BEFORE = 5;
const AFTER = 10;
const INJECT_EVERY_MS = 150;

const pg = new URL(TEST_PG_URL);
const credentialFor = (schema: string) => ({
  id: 'wahookRecvCred01',
  name: 'WhatsApp Workspace (received)',
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
    workspaceName: 'received',
    dataFolder: '',
    quotaAllowance: 1000,
    quotaPeriod: 'daily',
    refundDelayMinutes: 0,
    gapMinSeconds: 0,
    gapMaxSeconds: 0.05,
    capPerHour: 0,
    capPerDay: 0,
    allowPrivateFileUrls: false,
    dryRunPhones: '',
  },
});

/** WhatsApp Trigger → WhatsApp Send, replying in thread to each received message. */
function replyWorkflow(credential: { id: string; name: string }) {
  return replyInThreadWorkflow({ workflow: WORKFLOW_ID, name: 'WhatsApp Trigger: reply in thread', trigger: TRIGGER, reply: 'wahook-recv-reply' }, credential);
}

const dir = tempDir('wahook-n8n-received-');
let schema: ThrowawaySchema;
let holder: Workspace;
let n8n: N8nInstance | undefined;
let userFolder = '';
const errors: unknown[] = [];
const startedAt = Date.now();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  schema = throwawaySchema();
  // The process that holds the account: it receives, and it sends what n8n's Send step accepts.
  holder = await Workspace.open({ store: new PostgresStore(schema.options()), pacing: { gap: { minMs: 1, maxMs: 5 } }, onError: (error) => errors.push(error) });
  await holder.addDryRunAccount('15105566777');
  const credential = credentialFor(schema.name);
  ({ n8n, userFolder } = await startImported(dir.path, [credential], [replyWorkflow(credential)], { WAHOOK_OWN_ACCOUNTS: 'false' }, { detached: true }));
  await triggerActive();
});

afterAll(async () => {
  await n8n?.stop();
  await holder?.close();
  await schema?.drop();
  dir.cleanup();
  process.stdout.write(`n8n received-messages end-to-end: ${((Date.now() - startedAt) / 1000).toFixed(1)} s including imports and two starts\n`);
});

/** The trigger writes its place in the store when it first starts: from then on it emits what arrives. */
async function triggerActive(): Promise<void> {
  const until = Date.now() + 60_000;
  while ((await holder.store.feed.cursor(READER)) === undefined) {
    if (Date.now() > until) throw new Error(`The WhatsApp Trigger did not start within 60 s:\n${n8n?.output().slice(-4000)}`);
    await sleep(250);
  }
}

async function receive(text: string): Promise<string> {
  const message = incomingText({ text });
  holder.received.take(ACCOUNT_ID, message);
  await holder.received.settled();
  return message.id;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const flatted = createRequire(join(harness.n8nDir(), 'node_modules', 'n8n', 'package.json'))('flatted') as { parse(text: string): unknown };

interface RunData {
  resultData?: { runData?: Record<string, { data?: { main?: ({ json?: { id?: unknown; request?: { quotedMessageId?: unknown } } }[] | null)[] } }[]> };
}

/**
 * The workflow's executions in n8n's database: each one's status, the message id its trigger emitted and
 * the quoted_message_id its Reply step queued.
 */
function executions(): { status: string; id: string | undefined; quoted: string | undefined }[] {
  const db = new DatabaseSync(join(userFolder, '.n8n', 'database.sqlite'), { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    const rows = db
      .prepare('SELECT e.status AS status, d.data AS data FROM execution_entity e LEFT JOIN execution_data d ON d.executionId = e.id WHERE e.workflowId = ? ORDER BY e.id')
      .all(WORKFLOW_ID) as { status: string; data: string | null }[];
    return rows.map((row) => {
      const runData = row.data ? (flatted.parse(row.data) as RunData).resultData?.runData : undefined;
      const id = runData?.[TRIGGER.name]?.[0]?.data?.main?.[0]?.[0]?.json?.id;
      const quoted = runData?.Reply?.[0]?.data?.main?.[0]?.[0]?.json?.request?.quotedMessageId;
      return { status: row.status, id: typeof id === 'string' ? id : undefined, quoted: typeof quoted === 'string' ? quoted : undefined };
    });
  } finally {
    db.close();
  }
}

/** The replies the account sent (dry-run records), with the received message each quotes. */
async function replies(): Promise<{ text: string | null; quotedId: string | null; times: number }[]> {
  const records = await holder.store.dryRun.list();
  return Promise.all(records.map(async (record) => ({ text: record.text, quotedId: (await holder.message(record.id))?.quotedId ?? null, times: record.times })));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Not within ${timeoutMs / 1000} s: ${what}\n${n8n?.output().slice(-4000)}`);
    await sleep(250);
  }
}

it('replies in thread to each received message, once, across a restart of n8n while messages arrive', async () => {
  const received: { id: string; text: string }[] = [];
  for (let i = 0; i < BEFORE; i++) {
    const text = `before the restart ${i}`;
    received.push({ id: await receive(text), text });
  }
  await until('the replies to the first messages', async () => (await replies()).length === BEFORE, 60_000);

  // Messages keep arriving while n8n stops (SIGTERM) and starts again on the same folder, and after.
  let restarted = false;
  const injector = (async () => {
    for (let i = 0, after = 0; after < AFTER; i++) {
      if (restarted) after++;
      const text = `during the restart ${i}`;
      received.push({ id: await receive(text), text });
      await sleep(INJECT_EVERY_MS);
    }
  })();
  await sleep(INJECT_EVERY_MS * 5);
  const stopping = Date.now();
  await n8n!.stop();
  const stopped = (Date.now() - stopping) / 1000;
  const receivedWhileStopped = received.length;
  n8n = await harness.startN8n({ userFolder, port: await harness.freePort(), extraEnv: { WAHOOK_OWN_ACCOUNTS: 'false' }, detached: true });
  restarted = true;
  await injector;
  const total = received.length;
  // Some arrived while n8n was stopping or down, some after it was back.
  expect(receivedWhileStopped).toBeGreaterThan(BEFORE);
  expect(total - receivedWhileStopped).toBeGreaterThanOrEqual(AFTER);

  await until('a reply to every message', async () => (await replies()).length >= total, 120_000);
  await until('every execution to finish', () => executions().filter((row) => row.status === 'success').length >= total, 60_000);
  // A little longer: nothing more may run (a message emitted twice would show up now).
  await sleep(6_000);

  const runs = executions();
  const byId = new Map<string, number>();
  for (const run of runs) if (run.id) byId.set(run.id, (byId.get(run.id) ?? 0) + 1);
  const sent = await replies();
  process.stdout.write(
    `n8n received: ${total} messages (${receivedWhileStopped - BEFORE} during the stop, ${total - receivedWhileStopped} after the start); n8n stopped in ${stopped.toFixed(1)} s; ` +
      `${runs.length} executions (${JSON.stringify(Object.fromEntries([...new Set(runs.map((run) => run.status))].map((status) => [status, runs.filter((run) => run.status === status).length])))}); ${sent.length} replies\n`,
  );
  // One successful execution per message, by the id the trigger emitted; none other.
  expect(runs.map((run) => run.status)).toEqual(Array(total).fill('success'));
  expect(received.map((message) => byId.get(message.id) ?? 0)).toEqual(Array(total).fill(1));
  expect(byId.size).toBe(total);
  // Each Reply step queued its answer quoting the message its execution started with.
  expect(runs.filter((run) => run.quoted !== run.id)).toEqual([]);
  // One reply per message, quoting it, each handed to WhatsApp once.
  expect(sent).toHaveLength(total);
  for (const message of received) {
    expect(sent.filter((reply) => reply.text === `re: ${message.text}`)).toEqual([{ text: `re: ${message.text}`, quotedId: message.id, times: 1 }]);
  }
  expect(errors).toEqual([]);
});
