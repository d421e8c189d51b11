import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostgresStore } from '../../shared/store/postgres';
import { throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import { NodeRed, sleep, waitFor } from './support/node-red';
import { DRY_RUN_PHONE, nodeIdOf, tab, tokenOf, webhook, workspace } from './support/flows';

// Two real Node-RED 5 processes (own user dirs, own ports) with the same flow: a whatsapp-workspace config
// node on one PostgreSQL schema (storeKind postgres; the password in Node-RED's credentials) with a
// dry-run phone, and a whatsapp-webhook node whose two outputs go through core http request nodes to a
// collector in this test (which process emitted what). Everything else is asserted over HTTP and in the
// store: one process owns (and so sends for) the account, both accept, both report every lifecycle
// change, each emits on its Accepted output what it took; a rotated URL is 404 on the other within 1 s;
// SIGKILL the owner while messages are queued and the other takes the account over and sends the rest,
// each once under its id (the one in flight at the kill may go twice: at-least-once across a crash); the
// killed instance, restarted on its user dir, emits what it took.

const STORE = 'shared';
const ACCOUNT_ID = `dry-run-${DRY_RUN_PHONE.slice(1)}`;
const NAMES = ['A', 'B'] as const;
type Name = (typeof NAMES)[number];

interface Emitted {
  readonly accepted: Map<Name, string[]>;
  readonly statuses: Map<Name, { message_id: string; status: string }[]>;
}

describe('Node-RED end to end: two processes on one PostgreSQL workspace', () => {
  let schema: ThrowawaySchema;
  let store: PostgresStore;
  let collector: Server;
  let collectorUrl: string;
  const userDirs = new Map<Name, string>();
  const reds = new Map<Name, NodeRed>();
  const emitted: Emitted = { accepted: new Map(NAMES.map((name) => [name, []])), statuses: new Map(NAMES.map((name) => [name, []])) };
  /** Every message id a webhook answered 200 for, with its text and the process that took it. */
  const accepted = new Map<string, { text: string; by: Name }>();
  let token = tokenOf(STORE);

  const red = (name: Name) => reds.get(name)!;

  const flows = (name: Name) => [
    tab(),
    {
      ...workspace(STORE, {
        storeKind: 'postgres',
        pgHost: '127.0.0.1',
        pgPort: '5432',
        pgDatabase: 'test',
        pgUser: 'postgres',
        pgSsl: 'off',
        pgSchema: schema.name,
        gapMinSeconds: '0.2',
        gapMaxSeconds: '0.25',
      }),
      // Node-RED keeps it in flows_cred.json; the test server trusts local connections, so it is not checked.
      credentials: { pgPassword: 'not-needed-with-trust' },
    },
    { ...webhook(STORE), wires: [['to-accepted'], ['to-status']] },
    collectorNode('to-accepted', `${collectorUrl}/${name}/accepted`, 100),
    collectorNode('to-status', `${collectorUrl}/${name}/status`, 200),
  ];

  const post = async (name: Name, body: unknown) => {
    const response = await fetch(`${red(name).url}/whatsapp/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** Sends one text through `name`'s webhook, checks the contract's answer and records the id. */
  const send = async (name: Name, text: string): Promise<string> => {
    const answer = await post(name, { action: 'send', phone: '+14151231234', text });
    expect(answer).toEqual({ status: 200, body: { status: 'success', data: { message_id: expect.stringMatching(/^wa_backend:3EB0[0-9A-F]{18}$/) } } });
    const id = (answer.body.data as { message_id: string }).message_id.slice('wa_backend:'.length);
    accepted.set(id, { text, by: name });
    return id;
  };
  const ownerPid = async (): Promise<number | undefined> => {
    const owner = await store.ownership.ownerOf(ACCOUNT_ID, Date.now());
    const match = owner === undefined ? null : / pid (\d+) /.exec(owner);
    return match ? Number(match[1]) : undefined;
  };
  const statusesOf = (name: Name, id: string) =>
    emitted.statuses.get(name)!.filter((change) => change.message_id === `wa_backend:${id}`).map((change) => change.status);
  const waitServed = (name: Name) =>
    waitFor(`${name} to serve /whatsapp/${token}`, async () => (await fetch(`${red(name).url}/whatsapp/${token}`)).status === 405, 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nNode-RED ${name} said:\n${red(name).log()}`);
    });
  /**
   * Every accepted id recorded by the dry-run account exactly once, under its id, with its text. With
   * `killed`, one message may have been sent again: the one the killed owner had handed to the account
   * but not yet recorded as sent when it died (at-least-once across a crash; WhatsApp dedupes a resend
   * by its id, which the dry-run account counts in `times`). Its history must say exactly that.
   */
  const expectDeliveredOnce = async (ids: Iterable<string>, killed = false) => {
    const records = new Map((await store.dryRun.list(ACCOUNT_ID)).map((record) => [record.id, record]));
    let resent = 0;
    for (const id of ids) {
      const seen = { id, text: records.get(id)?.text, times: records.get(id)?.times };
      // A message sent more than once shows its history (attempts, requeues and their reasons) in the failure.
      const history = seen.times === 1 ? [] : (await store.outbox.history(id)).map((event) => [event.status, event.detail]);
      const inFlightAtTheKill = [['queued', null], ['sending', 'attempt 1'], ['queued', 'recovered after a restart'], ['sending', 'attempt 2']];
      if (killed && seen.times === 2 && resent === 0 && JSON.stringify(history.slice(0, 4)) === JSON.stringify(inFlightAtTheKill)) {
        resent += 1;
        continue;
      }
      expect({ ...seen, history }).toEqual({ id, text: accepted.get(id)!.text, times: 1, history: [] });
    }
  };
  const waitDelivered = (ids: readonly string[], timeoutMs: number) =>
    waitFor(
      `${ids.length} messages to be recorded by the dry-run account`,
      async () => {
        const recorded = new Set((await store.dryRun.list(ACCOUNT_ID)).map((record) => record.id));
        return ids.every((id) => recorded.has(id));
      },
      timeoutMs,
    );

  beforeAll(async () => {
    schema = throwawaySchema();
    store = schema.store({ poolSize: 2 });
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const [, name, output] = (req.url ?? '').split('/') as [string, Name, string];
        const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message_id: string; status: string };
        if (output === 'accepted') emitted.accepted.get(name)?.push(payload.message_id.slice('wa_backend:'.length));
        else emitted.statuses.get(name)?.push({ message_id: payload.message_id, status: payload.status });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;

    await Promise.all(
      NAMES.map(async (name) => {
        const dir = mkdtempSync(join(tmpdir(), `wahook-e2e-pg-${name}-`));
        userDirs.set(name, dir);
        reds.set(name, await NodeRed.start(dir));
      }),
    );
    // The first creates the schema and the dry-run account; the second finds both.
    await red('A').deploy(flows('A'));
    await waitServed('A');
    await red('B').deploy(flows('B'));
    await waitServed('B');
  }, 60_000);

  afterAll(async () => {
    // By name: the map holds them in the order their first start finished, which varies.
    const logs = NAMES.map((name) => ({ name, errors: red(name).log().split('\n').filter((line) => line.includes('[error]')) }));
    const codes = await Promise.all([...reds.values()].map((one) => one.stop()));
    await new Promise((resolve) => collector?.close(resolve));
    await schema?.drop();
    for (const dir of userDirs.values()) rmSync(dir, { recursive: true, force: true });
    // Both (the survivor and the restarted one) logged no error and stopped cleanly on SIGINT.
    expect(logs).toEqual(NAMES.map((name) => ({ name, errors: [] })));
    expect(codes).toEqual(NAMES.map(() => 0));
  }, 30_000);

  it('both accept; one process owns and sends; every message goes out once; both emit and report', async () => {
    const pids = new Set(NAMES.map((name) => red(name).pid));
    const owner = await ownerPid();
    expect(pids).toContain(owner);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await send(NAMES[i % 2]!, `both ${i}`));
    await waitDelivered(ids, 15_000);
    await expectDeliveredOnce(ids);
    // Still one owner, the same one.
    expect(await ownerPid()).toBe(owner);
    expect(String(await store.ownership.ownerOf(ACCOUNT_ID, Date.now()))).toMatch(new RegExp(` pid ${owner} `));

    // Status outputs: both processes report delivered for every message, whichever took it (the change feed).
    await waitFor(
      'delivered on both status outputs',
      () => ids.every((id) => NAMES.every((name) => statusesOf(name, id).includes('delivered'))),
      5_000,
    ).catch(() => undefined);
    for (const name of NAMES) {
      for (const id of ids) expect({ name, id, statuses: statusesOf(name, id) }).toEqual({ name, id, statuses: ['sent', 'delivered'] });
    }

    // Accepted outputs: each process emits what it took, once.
    await waitFor(
      'both accepted outputs',
      () => NAMES.every((name) => ids.filter((id) => accepted.get(id)!.by === name).every((id) => emitted.accepted.get(name)!.includes(id))),
      10_000,
    ).catch(() => undefined);
    for (const name of NAMES) {
      const took = ids.filter((id) => accepted.get(id)!.by === name);
      expect({ name, emitted: emitted.accepted.get(name)!.filter((id) => ids.includes(id)).sort() }).toEqual({ name, emitted: [...took].sort() });
    }
  }, 40_000);

  it('a URL rotated on one process is 404 on the other within a second', async () => {
    const old = token;
    const response = await red('A').admin(`whatsapp-workspace/${nodeIdOf(STORE)}/rotate`, { method: 'POST' });
    expect(response.status).toBe(200);
    const rotatedAt = Date.now();
    const path = ((await response.json()) as { webhook: { path: string } }).webhook.path;
    expect(path).not.toBe(`/whatsapp/${old}`);
    token = path.slice('/whatsapp/'.length);
    const oldOnB = () => fetch(`${red('B').url}/whatsapp/${old}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await waitFor('the old URL to be 404 on B', async () => (await oldOnB()).status === 404, 1_000);
    expect(Date.now() - rotatedAt).toBeLessThan(1_000);
    expect(await (await oldOnB()).json()).toEqual({ status: 404, data: {}, message: 'Webhook not found' });
    expect((await fetch(`${red('A').url}/whatsapp/${old}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    // The new URL works on both.
    await send('B', 'after rotation on B');
    await send('A', 'after rotation on A');
  }, 15_000);

  it('SIGKILL the owner while messages are queued: the other takes over and sends the rest, each once (the one in flight at the kill at most twice, under its id)', async () => {
    const ownerBefore = await ownerPid();
    const ownerName = NAMES.find((name) => red(name).pid === ownerBefore)!;
    expect(ownerName).toBeDefined();
    const survivor = NAMES.find((name) => name !== ownerName)!;
    // Paced at 0.2–0.25 s, 20 messages keep the queue busy for about 4 s.
    const before: string[] = [];
    for (let i = 0; i < 20; i++) before.push(await send(NAMES[i % 2]!, `before the kill ${i}`));
    await sleep(600);
    const { pending } = await pendingAndSent(store, before);
    expect(pending).toBeGreaterThan(5);
    await red(ownerName).kill();
    const killedAt = Date.now();

    // Accepted by the survivor while nobody sends.
    const after: string[] = [];
    for (let i = 0; i < 5; i++) after.push(await send(survivor, `after the kill ${i}`));
    await waitFor('the survivor to own the account', async () => (await ownerPid()) === red(survivor).pid, 10_000);
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThan(10_000);

    const all = [...accepted.keys()];
    await waitDelivered(all, 20_000);
    await expectDeliveredOnce(all, true);
    expect((await store.dryRun.list(ACCOUNT_ID)).length).toBe(accepted.size);
    const counts = await store.outbox.countByStatus();
    expect({ queued: counts.queued ?? 0, sending: counts.sending ?? 0 }).toEqual({ queued: 0, sending: 0 });
    // The survivor reports delivered for what it sent after the take-over.
    await waitFor('delivered on the survivor', () => after.every((id) => statusesOf(survivor, id).includes('delivered')), 5_000);
    const tookBy = (name: Name) => [...accepted].filter(([, message]) => message.by === name).map(([id]) => id);
    await waitFor('the survivor to emit what it took', () => tookBy(survivor).every((id) => emitted.accepted.get(survivor)!.includes(id)), 10_000);
    expect([...emitted.accepted.get(survivor)!].sort()).toEqual(tookBy(survivor).sort());

    // The killed instance comes back (same user dir, so the same instance id and feed position): it emits
    // what it took and had not emitted when it was killed, and leaves the account with its owner.
    reds.set(ownerName, await NodeRed.start(userDirs.get(ownerName)!));
    await waitServed(ownerName);
    await waitFor('the restarted instance to emit what it took', () => tookBy(ownerName).every((id) => emitted.accepted.get(ownerName)!.includes(id)), 15_000);
    expect(new Set(emitted.accepted.get(ownerName)!)).toEqual(new Set(tookBy(ownerName)));
    expect(await ownerPid()).toBe(red(survivor).pid);
    expect((await store.dryRun.list(ACCOUNT_ID)).length).toBe(accepted.size);
    process.stdout.write(`take-over after ${takeover} ms; ${before.length + after.length} messages around the kill, ${accepted.size} in all\n`);
  }, 60_000);
});

/** A core http request node POSTing msg.payload (JSON) to the test's collector. */
function collectorNode(id: string, url: string, y: number) {
  return {
    id,
    type: 'http request',
    z: 'e2e-tab',
    name: id,
    method: 'POST',
    ret: 'txt',
    paytoqs: 'ignore',
    url,
    tls: '',
    persist: false,
    proxy: '',
    insecureHTTPParser: false,
    authType: '',
    senderr: false,
    headers: [],
    x: 400,
    y,
    wires: [[]],
  };
}

async function pendingAndSent(store: PostgresStore, ids: readonly string[]): Promise<{ pending: number; sent: number }> {
  const recorded = new Set((await store.dryRun.list()).map((record) => record.id));
  const sent = ids.filter((id) => recorded.has(id)).length;
  return { pending: ids.length - sent, sent };
}
