import { Agent, request } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeRed, sleep, waitFor } from './support/node-red';
import { tab, tokenOf, webhook, workspace } from './support/flows';
import { messagesSnapshot, storeFileOf } from './support/store-file';

// A redeploy storm in a real Node-RED 5: while 8 connections keep POSTing valid requests to one
// workspace's webhook, the same flows are fully redeployed 20 times (plus twice with a changed setting).
// The contract under a redeploy: the valid token never answers 404 (the old workspace keeps answering
// until the new one is ready, or the call gets 503 + Retry-After), every 200'd message is emitted on the
// webhook node's first output exactly once (emission comes from the durable store, with a cursor kept in
// the store), and every 200'd message is sent (here: recorded by the dry-run account) or still queued.
// Emitted ids are collected outside Node-RED's memory: a core change node keeps payload.message_id and a
// core file node appends it as a line to a file in the test's temp folder.

const STORE = 'storm';
const TOKEN = tokenOf(STORE);
const SENDERS = 8;
/** Per-sender bounds: the loops stop when the deploys are done, or at these limits, whichever is first. */
const MAX_CALLS_PER_SENDER = 10_000;
const MAX_SENDING_MS = 30_000;
const SAME_DEPLOYS = 20;
/** Deploys (by position in the sequence) whose workspace has a different quotaAllowance. */
const CHANGED_AT = new Set([7, 15]);
const SETTLE_MS = 20_000;

interface Call {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

describe('Node-RED end to end: a redeploy storm under load', () => {
  let userDir: string;
  let red: NodeRed;
  let emittedFile: string;

  const flows = (quotaAllowance: string) => [
    tab(),
    workspace(STORE, { quotaAllowance, quotaPeriod: 'none', gapMinSeconds: '0', gapMaxSeconds: '0.01' }),
    { ...webhook(STORE), wires: [['storm-id'], []] },
    {
      id: 'storm-id',
      type: 'change',
      z: 'e2e-tab',
      name: 'message_id',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload.message_id', tot: 'msg' }],
      action: '',
      property: '',
      from: '',
      to: '',
      reg: false,
      x: 400,
      y: 100,
      wires: [['storm-file']],
    },
    {
      id: 'storm-file',
      type: 'file',
      z: 'e2e-tab',
      name: 'emitted ids',
      filename: emittedFile,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'none',
      x: 600,
      y: 100,
      wires: [[]],
    },
  ];

  /** The lines the file node appended so far (each a payload.message_id the webhook node emitted). */
  const emitted = (): string[] => (existsSync(emittedFile) ? readFileSync(emittedFile, 'utf8').split('\n').filter((line) => line !== '') : []);

  beforeAll(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-e2e-redeploy-'));
    emittedFile = join(userDir, 'emitted-ids.txt');
    red = await NodeRed.start(userDir);
  }, 40_000);

  afterAll(async () => {
    const code = await red?.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    if (red) expect(code).toBe(0);
  }, 20_000);

  it('20 full deploys (and 2 with a changed setting) under 8 concurrent senders: no 404, every 200 emitted (at least once) and sent or queued', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: SENDERS });
    const url = new URL(`${red.url}/whatsapp/${TOKEN}`);
    const post = (body: string) =>
      new Promise<Call>((resolve, reject) => {
        const req = request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: Buffer.concat(chunks).toString('utf8') }),
            );
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
        req.on('error', reject);
        req.end(body);
      });

    const accepted: string[] = [];
    const idOf = (call: Call) => {
      if (call.status !== 200) return undefined;
      const id = (JSON.parse(call.body) as { data?: { message_id?: string } }).data?.message_id;
      return typeof id === 'string' && id.startsWith('wa_backend:') ? id : undefined;
    };

    // Before the storm (404 is expected here, while the first workspace opens): one message accepted.
    await red.deploy(flows('1000000'));
    await waitFor(
      `/whatsapp/${TOKEN} to answer 200`,
      async () => {
        const id = idOf(await post(JSON.stringify({ action: 'send', phone: '+14151230999', text: 'warm-up' })));
        if (id !== undefined) accepted.push(id);
        return id !== undefined;
      },
      15_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nNode-RED said:\n${red.log()}`);
    });

    const unavailable: Call[] = [];
    const notFound: Call[] = [];
    const others: Call[] = [];
    const errors: string[] = [];
    let calls = 0;
    let stopping = false;
    const startedAt = Date.now();

    const sender = async (n: number) => {
      for (let i = 0; i < MAX_CALLS_PER_SENDER && !stopping && Date.now() - startedAt < MAX_SENDING_MS; i++) {
        const phone = `+1415123${String(1000 + ((n * MAX_CALLS_PER_SENDER + i) % 9000)).padStart(4, '0')}`;
        calls++;
        let call: Call;
        try {
          call = await post(JSON.stringify({ action: 'send', phone, text: `storm ${n}.${i}` }));
        } catch (error) {
          errors.push(String(error));
          continue;
        }
        if (call.status === 200) {
          const id = idOf(call);
          if (id !== undefined) accepted.push(id);
          else others.push(call);
        } else if (call.status === 503) unavailable.push(call);
        else if (call.status === 404) notFound.push(call);
        else others.push(call);
      }
    };
    const senders = Array.from({ length: SENDERS }, (_, n) => sender(n));

    const deployTimes: number[] = [];
    try {
      await sleep(300);
      for (let d = 0; d < SAME_DEPLOYS + CHANGED_AT.size; d++) {
        const began = Date.now();
        await red.deploy(flows(CHANGED_AT.has(d) ? '2000000' : '1000000'));
        deployTimes.push(Date.now() - began);
        await sleep(100 + Math.floor(Math.random() * 150));
      }
      await sleep(300);
    } finally {
      stopping = true;
      await Promise.all(senders);
      agent.destroy();
    }
    const sendingMs = Date.now() - startedAt;

    // Emission settles: every 200'd id is on the output, or the file has stopped growing for 3 s.
    const acceptedSet = new Set(accepted);
    const settleStart = Date.now();
    let lastCount = -1;
    let stableSince = Date.now();
    for (;;) {
      const lines = emitted();
      if (lines.length !== lastCount) {
        lastCount = lines.length;
        stableSince = Date.now();
      }
      const present = new Set(lines);
      const allThere = accepted.every((id) => present.has(id));
      if (allThere && Date.now() - stableSince >= 1_000) break;
      if (Date.now() - stableSince >= 3_000 || Date.now() - settleStart >= SETTLE_MS) break;
      await sleep(250);
    }

    const lines = emitted();
    const seen = new Map<string, number>();
    for (const line of lines) seen.set(line, (seen.get(line) ?? 0) + 1);
    const notEmitted = accepted.filter((id) => !seen.has(id));
    const emittedTwice = [...seen].filter(([, times]) => times > 1).map(([id, times]) => `${id} ×${times}`);
    const emittedUnknown = [...seen.keys()].filter((id) => !acceptedSet.has(id));

    const storeFile = storeFileOf(userDir, STORE);
    const { dryRunSent: sent, pending, statuses } = messagesSnapshot(storeFile);
    const internal = (id: string) => id.slice('wa_backend:'.length);
    const lost = accepted.filter((id) => !sent.has(internal(id)) && !pending.has(internal(id)));
    const stillQueued = accepted.filter((id) => !sent.has(internal(id)) && pending.has(internal(id))).length;

    const badUnavailable = unavailable.filter((call) => {
      if (call.retryAfter === undefined || call.retryAfter.trim() === '') return true;
      try {
        const body = JSON.parse(call.body) as Record<string, unknown>;
        return !(body.status === 503 && JSON.stringify(body.data) === '{}' && typeof body.message === 'string' && Object.keys(body).length === 3);
      } catch {
        return true;
      }
    });
    const otherStatuses: Record<string, number> = {};
    for (const call of others) otherStatuses[call.status] = (otherStatuses[call.status] ?? 0) + 1;
    const errorLines = red.log().split('\n').filter((line) => line.includes('[error]'));

    const sample = <T>(list: readonly T[]) => list.slice(0, 5);
    console.log(
      [
        `redeploy storm: ${calls} calls (after the warm-up) in ${sendingMs} ms over ${SENDERS} connections, ${deployTimes.length} full deploys ` +
          `(${deployTimes.join('/')} ms)`,
        `  200: ${accepted.length}, 503 (Retry-After): ${unavailable.length}, 404: ${notFound.length}, other: ${JSON.stringify(otherStatuses)}, ` +
          `client errors: ${errors.length}`,
        `  emitted lines: ${lines.length}, 200'd ids not emitted: ${notEmitted.length}, emitted twice: ${emittedTwice.length}, ` +
          `emitted ids never 200'd: ${emittedUnknown.length}`,
        `  dry-run recorded: ${sent.size}, 200'd still queued: ${stillQueued}, 200'd neither recorded nor queued: ${lost.length} ` +
          `(their outbox statuses: ${JSON.stringify(countBy(lost.map((id) => statuses.get(internal(id)) ?? 'absent')))})`,
        `  Node-RED [error] lines: ${errorLines.length}${errorLines.length ? `, first: ${errorLines[0]}` : ''}`,
        ...(notFound.length ? [`  a 404 body: ${notFound[0]!.body}`] : []),
        ...(unavailable.length ? [`  a 503: Retry-After ${String(unavailable[0]!.retryAfter)}, body ${unavailable[0]!.body}`] : []),
      ].join('\n'),
    );

    // Enough traffic reached the storm for it to mean something.
    expect(accepted.length).toBeGreaterThan(200);
    expect({
      notFound: { count: notFound.length, sample: sample(notFound.map((call) => call.body)) },
      otherStatuses,
      clientErrors: sample(errors),
      malformed503s: { count: badUnavailable.length, sample: sample(badUnavailable) },
      notEmitted: { count: notEmitted.length, sample: sample(notEmitted) },
      neitherRecordedNorQueued: { count: lost.length, sample: sample(lost) },
    }).toEqual({
      notFound: { count: 0, sample: [] },
      otherStatuses: {},
      clientErrors: [],
      malformed503s: { count: 0, sample: [] },
      notEmitted: { count: 0, sample: [] },
      neitherRecordedNorQueued: { count: 0, sample: [] },
    });
    // At least once: what a deploy caught on its way downstream is emitted again after it, and only that
    // (measured: 20 of 80,000 in one run).
    expect(emittedTwice.length).toBeLessThan(accepted.length / 100);
  }, 90_000);
});

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
