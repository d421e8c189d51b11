/**
 * The WhatsApp Trigger in a real n8n 2.40.7 (scripts/n8n-install.sh), single process, with a real Baileys
 * account: the workspace's SQLite store is primed with a linked device's creds, and n8n's Baileys socket
 * goes (WAHOOK_WA_WEBSOCKET_URL) to crabline, a local fake WhatsApp Web server on 127.0.0.1. crabline
 * injects inbound texts from a contact; each starts one execution of WhatsApp Trigger → WhatsApp Send
 * (chat_id = {{$json.chat_id}}, quoted_message_id = {{$json.id}}), and crabline decrypts the reply.
 *
 * crabline records a decrypted message's text only (not its contextInfo), so the quote is checked where
 * it is kept: the reply's row in the workspace's store names the injected message (quoted_id), and the
 * Baileys contract test (test/baileys/crabline.contract.test.ts) shows such a send goes out quoting it.
 *
 * Then n8n is stopped (SIGTERM) and started again while crabline keeps injecting (it queues what arrives
 * while no socket is connected and delivers it on the next connection): each message the account
 * acknowledged runs one execution (n8n's records, by the id the trigger emitted) and gets one reply; none
 * runs twice. A message crabline wrote to a socket that closed before Baileys acknowledged it, crabline
 * never sends again (WhatsApp does): such a one may not run, and is printed.
 */
import { createRequire } from 'node:module';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { storePathFor } from '../../shared';
import { SqliteStore } from '../../shared/store/sqlite';
import { Crabline, type RecordedNode } from '../baileys/support/crabline';
import { primeLinkedAuth } from '../baileys/support/harness';
import { tempDir } from '../support/temp';
import { harness, startImported, type N8nInstance } from './e2e-harness';
import { replyInThreadWorkflow } from './e2e-workflows';

jest.setTimeout(280_000);

const SELF = '15550000001:0@s.whatsapp.net';
const ACCOUNT = { id: 'wa-15550000001', kind: 'baileys' as const, phone: '15550000001', name: null, createdAt: 1, connectedAt: null, active: true };
const PEER = '15551234567@s.whatsapp.net';
const WORKFLOW_ID = 'wahookCrabWf0001';
const TRIGGER = { id: 'wahook-crab-trigger', name: 'WhatsApp Trigger' };
/** Messages injected while n8n stops and starts (one every INJECT_EVERY_MS), and AFTER more once it is back. */
const AFTER = 5;
const INJECT_EVERY_MS = 200;

const dir = tempDir('wahook-n8n-crab-');
const dataFolder = join(dir.path, 'data');
const storePath = storePathFor(dataFolder, 'crab');
const credential = {
  id: 'wahookCrabCred01',
  name: 'WhatsApp Workspace (crabline)',
  type: 'whatsAppWorkspaceApi',
  data: {
    dataFolder,
    workspaceName: 'crab',
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
};
const workflow = replyInThreadWorkflow({ workflow: WORKFLOW_ID, name: 'WhatsApp Trigger: reply in thread (crabline)', trigger: TRIGGER, reply: 'wahook-crab-reply' }, credential);

let crabline: Crabline;
let n8n: N8nInstance | undefined;
let userFolder = '';
let env: Record<string, string> = {};
const startedAt = Date.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  crabline = await Crabline.start(join(dir.path, 'crabline.jsonl'), SELF);
  // A linked device's creds in the store n8n will open, as a completed link leaves them.
  const store = new SqliteStore({ path: storePath });
  await store.accounts.put(ACCOUNT);
  await primeLinkedAuth(store, ACCOUNT.id, { id: SELF, name: 'Crab Phone' });
  await store.close();
  env = { WAHOOK_WA_WEBSOCKET_URL: crabline.webSocketUrl };
  ({ n8n, userFolder } = await startImported(dir.path, [credential], [workflow], env, { detached: true }));
});

afterAll(async () => {
  // WAHOOK_N8N_LOGS=<folder> keeps the last n8n's output there.
  const keep = process.env.WAHOOK_N8N_LOGS;
  if (keep && n8n) {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, 'n8n-crabline.log'), n8n.output());
  }
  await n8n?.stop();
  await crabline?.close();
  dir.cleanup();
  process.stdout.write(`n8n crabline end-to-end: ${((Date.now() - startedAt) / 1000).toFixed(1)} s including imports and two starts\n`);
});

/** Reads the workspace's store file as n8n leaves it (read-only; n8n keeps it open). */
function inStore<T>(query: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(storePath, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    return query(db);
  } finally {
    db.close();
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Not within ${timeoutMs / 1000} s: ${what}\nn8n said:\n${n8n?.output().slice(-4000)}`);
    await sleep(250);
  }
}

/** The account connected to crabline since `since` (its owner records when it opened). */
const connectedSince = (since: number) => () =>
  inStore((db) => (db.prepare('SELECT connected_at FROM accounts WHERE id = ?').get(ACCOUNT.id) as { connected_at: number | null } | undefined)?.connected_at ?? 0) >= since;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const flatted = createRequire(join(harness.n8nDir(), 'node_modules', 'n8n', 'package.json'))('flatted') as { parse(text: string): unknown };

interface RunData {
  resultData?: { runData?: Record<string, { data?: { main?: ({ json?: { id?: unknown; text?: unknown } }[] | null)[] } }[]> };
}

/** The workflow's executions in n8n's database: each one's status and the message its trigger emitted. */
function executions(): { status: string; id: string | undefined; text: unknown }[] {
  const db = new DatabaseSync(join(userFolder, '.n8n', 'database.sqlite'), { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    const rows = db
      .prepare('SELECT e.status AS status, d.data AS data FROM execution_entity e LEFT JOIN execution_data d ON d.executionId = e.id WHERE e.workflowId = ? ORDER BY e.id')
      .all(WORKFLOW_ID) as { status: string; data: string | null }[];
    return rows.map((row) => {
      const json = row.data ? (flatted.parse(row.data) as RunData).resultData?.runData?.[TRIGGER.name]?.[0]?.data?.main?.[0]?.[0]?.json : undefined;
      return { status: row.status, id: typeof json?.id === 'string' ? json.id : undefined, text: json?.text };
    });
  } finally {
    db.close();
  }
}

/** Whether a stanza names this message id, itself or in a child (a receipt for several lists them as items). */
function names(node: RecordedNode, id: string): boolean {
  return node.attrs?.id === id || (Array.isArray(node.content) && (node.content as RecordedNode[]).some((child) => names(child, id)));
}

/** crabline's decrypted replies to the peer, by their text. */
const replies = () => crabline.accepted().filter((message) => message.key.remoteJid === PEER);

it('an injected text starts the workflow, whose Send step replies in thread; crabline decrypts the reply', async () => {
  await until('the linked account to connect to crabline', connectedSince(1), 60_000);
  const injected = await crabline.inject({ from: PEER, text: 'is the shop open?', pushName: 'Alice Crab' });
  expect(injected.delivery).toBe('delivered');
  await until('crabline to decrypt the reply', () => replies().some((reply) => reply.message.conversation === 're: is the shop open?'), 60_000);

  const [run] = executions();
  expect(run).toEqual({ status: expect.stringMatching(/^(success|running)$/), id: injected.id, text: 'is the shop open?' });
  const reply = replies().find((message) => message.message.conversation === 're: is the shop open?')!;
  expect(reply.key).toEqual({ fromMe: true, id: expect.stringMatching(/^3EB0[0-9A-F]{18}$/), remoteJid: PEER });
  // The reply's row names the message it quotes: the one crabline injected.
  const row = inStore((db) => db.prepare('SELECT quoted_id, status FROM messages WHERE id = ?').get(reply.key.id)) as { quoted_id: string | null; status: string };
  expect(row.quoted_id).toBe(injected.id);
  // The received message is in the store once, from the contact.
  const stored = inStore((db) => db.prepare('SELECT account_id, body FROM inbound_messages WHERE id = ?').all(injected.id)) as { account_id: string; body: string }[];
  expect(stored).toHaveLength(1);
  expect(JSON.parse(stored[0]!.body)).toMatchObject({ id: injected.id, from_me: false, type: 'text', chat_jid: PEER, sender: { phone: '15551234567', push_name: 'Alice Crab' } });
});

it('across a restart of n8n while crabline keeps injecting, each message the account acknowledged runs once and is replied to once', async () => {
  const before = executions().length;
  const injected: { id: string; text: string; delivery: string }[] = [];
  let restarted = false;
  const injector = (async () => {
    for (let i = 0, after = 0; after < AFTER; i++) {
      if (restarted) after++;
      const text = `around the restart ${i}`;
      const { id, delivery } = await crabline.inject({ from: PEER, text, pushName: 'Alice Crab' });
      injected.push({ id, text, delivery });
      await sleep(INJECT_EVERY_MS);
    }
  })();
  await sleep(INJECT_EVERY_MS * 4);
  const first = n8n!;
  await first.stop();
  const stoppedAt = Date.now();
  const keep = process.env.WAHOOK_N8N_LOGS;
  if (keep) {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, 'n8n-crabline-before-restart.log'), first.output());
  }
  n8n = await harness.startN8n({ userFolder, port: await harness.freePort(), extraEnv: env, detached: true });
  await until('the account to connect again', connectedSince(stoppedAt), 60_000);
  restarted = true;
  await injector;
  // Some arrived while no socket was connected (crabline queued them), some after.
  expect(injected.some((message) => message.delivery === 'queued')).toBe(true);
  expect(injected.filter((message) => message.delivery === 'delivered').length).toBeGreaterThan(AFTER);

  // The account took a message once Baileys acknowledged it (a receipt naming it). crabline counts a
  // message written to a socket as delivered, acknowledged or not, and never sends it again; WhatsApp
  // sends an unacknowledged message again on the next connection. So the exact-once check is over the
  // acknowledged ones; one written to a socket that closed before Baileys read it (at the stop, or a
  // connection crabline dropped) may not run at all, never twice.
  const acknowledged = (id: string) => crabline.nodes().some((node) => node.tag === 'receipt' && names(node, id));
  const timesRun = (id: string) => executions().filter((run) => run.id === id).length;
  const replyRows = (id: string) => inStore((db) => db.prepare('SELECT id, text, status FROM messages WHERE quoted_id = ?').all(id)) as { id: string; text: string; status: string }[];
  const decrypted = (replyId: string) => replies().filter((reply) => reply.key.id === replyId).length;
  const state = () =>
    injected
      .map((message) => `${message.text} (${message.delivery}, ${acknowledged(message.id) ? 'acknowledged' : 'not acknowledged'}): ${timesRun(message.id)} runs, reply rows ${JSON.stringify(replyRows(message.id).map((row) => ({ ...row, decrypted: decrypted(row.id) })))}`)
      .join('\n');
  const taken = () => injected.filter((message) => acknowledged(message.id));
  const fail = (error: unknown) => {
    throw new Error(`${String(error).slice(0, 300)}\n${state()}`);
  };
  await until('a reply row for every acknowledged message', () => taken().every((message) => replyRows(message.id).length > 0), 120_000).catch(fail);
  await until('every execution to finish', () => executions().slice(before).every((run) => run.status !== 'new' && run.status !== 'running'), 60_000).catch(fail);
  await until('crabline to decrypt the replies', () => taken().every((message) => replyRows(message.id).every((row) => decrypted(row.id) > 0)), 20_000).catch(() => undefined);
  // A little longer: nothing more may run or be sent (a message emitted twice would show up now).
  await sleep(6_000);

  const runs = executions().slice(before);
  const notTaken = injected.filter((message) => !acknowledged(message.id));
  const undecrypted = taken().flatMap((message) => replyRows(message.id).filter((row) => decrypted(row.id) === 0));
  process.stdout.write(
    `n8n crabline: ${injected.length} injected (${injected.filter((message) => message.delivery === 'queued').length} queued by crabline while no socket was connected), ` +
      `${taken().length} acknowledged by the account, ${runs.length} executions; ${notTaken.length} never acknowledged, their socket closing first ` +
      `(${notTaken.map((message) => `${message.text}: ${timesRun(message.id)} runs`).join(', ') || 'none'}); ${undecrypted.length} replies handed to a closing socket that crabline did not decrypt\n`,
  );
  try {
    expect(runs.map((run) => run.status)).toEqual(Array(runs.length).fill('success'));
    // Each acknowledged message: one execution, one reply quoting it, decrypted by crabline once.
    expect(taken().map((message) => [message.text, timesRun(message.id), replyRows(message.id).map((row) => row.text)])).toEqual(
      taken().map((message) => [message.text, 1, [`re: ${message.text}`]]),
    );
    // The rest: at most once.
    expect(notTaken.filter((message) => timesRun(message.id) > 1)).toEqual([]);
    // A reply handed to WhatsApp just as the socket closed at the stop: crabline drops what it was still
    // reading. The sender sends one message at a time, so at most one.
    expect(undecrypted.length).toBeLessThanOrEqual(1);
    expect(replies().filter((reply) => decrypted(reply.key.id) > 1)).toEqual([]);
    // Most of them went through the stop and the start: not a run where nothing was at stake.
    expect(taken().length).toBeGreaterThan(injected.length / 2);
  } catch (error) {
    fail(error);
  }
});
