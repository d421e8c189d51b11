/**
 * Fuzz of the standalone webhook server (shared/webhook/standalone-server.ts createWebhookServer), in this
 * process, on a real workspace: a temp SQLite store and a dry-run account. Raw TCP from 127.0.0.1 only.
 * Its /metrics and /healthz are fuzzed too, on the server as it is and on one with a scrape token.
 * Every request it receives is ours, so every answer must keep the contract; protocol-level garbage
 * that Node's parser refuses must get the contract's JSON 400 (through the server's clientError handler).
 * The workspace has a Cloud API number (its Graph API a local fake), so `/whatsapp/cloud-api`, Meta's
 * webhook, is fuzzed too (support/cloud-api.ts): its answers are the challenge as text for a valid
 * verification, else the contract's JSON with a documented status and a sentence naming why.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookServer } from '../../shared/webhook/standalone-server';
import { FakeGraphApi } from '../support/fake-graph-api';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';
import { check, dump, checkIdle, flood, generate, histogram, pool, report, run, slowClients, startIdle, validCall, IDLE_LIMIT_MS } from './support/campaign';
import { garbageCases, type Target } from './support/cases';
import { checkCloud, cloudApiCases, cloudFlood, cloudHistogram, cloudLiveness, cloudSlowClients, runCloud, type CloudTarget } from './support/cloud-api';
import { endpointCases, endpointGarbage, endpointViolations, type EndpointCase } from './support/endpoints';
import { statusOf } from './support/contract';
import { exchange, printable } from './support/raw-http';

const SEED = 0x5eed_0001;
const REQUESTS = 2000;
const GARBAGE = 200;
const CONCURRENCY = 16;
const FLOOD = 300;
const TOKEN = 'fuzz-standalone-token-0123456789';
const SCRAPE = 'fuzz-scrape-token-0123456789+/=';
const ENDPOINT_REQUESTS = 600;
const ENDPOINT_FLOOD = 300;
const CLOUD_REQUESTS = 1500;
const CLOUD_GARBAGE = 60;
const CLOUD_FLOOD = 200;
const VERIFY_TOKEN = 'fuzz-verify-token-0123456789';
/** How the standalone server passes the Cloud API webhook's refusals on (workspace.reportError): expected here, not errors. */
const CLOUD_WARNING = /^Error: WhatsApp Cloud API webhook: /;

jest.setTimeout(120_000);

describe('fuzz: the standalone webhook server', () => {
  let ws: TestWorkspace;
  let server: Server;
  let port = 0;
  /** The same workspace on a second server that has a scrape token (/metrics and /healthz need it there). */
  let guarded: Server;
  let guardedPort = 0;
  const target: Target = { prefix: '/whatsapp/', token: TOKEN, engine: 'standalone' };
  const cases = generate(target, { seed: SEED, requests: REQUESTS, garbage: GARBAGE });
  let idle: ReturnType<typeof startIdle>;
  const graph = new FakeGraphApi();
  const cloudTarget: CloudTarget = { prefix: '/whatsapp/', engine: 'standalone', verifyToken: VERIFY_TOKEN, appSecret: graph.appSecret, phoneNumberId: graph.phoneNumberId };
  const cloudCases = cloudApiCases(cloudTarget, { seed: SEED + 3, requests: CLOUD_REQUESTS });
  let cloudIdle: ReturnType<typeof startIdle>;

  beforeAll(async () => {
    await graph.start();
    ws = await openTestWorkspace({
      initialToken: TOKEN,
      quota: { period: 'none', allowance: 1_000_000 },
      cloudApi: {
        numbers: [{ phoneNumberId: graph.phoneNumberId, accessToken: graph.accessToken, appSecret: graph.appSecret, verifyToken: VERIFY_TOKEN, graphBaseUrl: graph.baseUrl, graphVersion: graph.version }],
      },
    });
    await ws.workspace.addDryRunAccount('15105566777', 'fuzz dry run');
    server = createWebhookServer(ws.workspace);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    guarded = createWebhookServer(ws.workspace, { metricsToken: SCRAPE });
    await new Promise<void>((resolve) => guarded.listen(0, '127.0.0.1', resolve));
    guardedPort = (guarded.address() as AddressInfo).port;
    // Idle clients first: they wait out the stated limit while everything else runs.
    idle = startIdle(port, target);
    cloudIdle = startIdle(port, { ...target, token: 'cloud-api' });
  });

  afterAll(async () => {
    for (const each of [server, guarded]) {
      if (!each) continue;
      each.closeAllConnections();
      await new Promise((resolve) => each.close(resolve));
    }
    await ws?.close();
    await graph.close();
  });

  it(`answers ~${REQUESTS} generated requests by the contract`, async () => {
    const ran = await run(port, cases.requests, CONCURRENCY);
    process.stdout.write(`standalone: ${ran.cases.length} requests in ${ran.ms} ms\n${histogram(ran)}\n`);
    const findings = check(ran);
    dump('standalone-server-1', findings, ran);
    expect(report(findings)).toEqual([]);
  });

  it('answers protocol-level garbage (refused by Node’s parser) with the contract’s JSON 400', async () => {
    const ran = await run(port, cases.garbage, CONCURRENCY);
    process.stdout.write(`standalone garbage: ${ran.cases.length} requests in ${ran.ms} ms\n${histogram(ran)}\n`);
    const findings = check(ran);
    dump('standalone-server-2', findings, ran);
    expect(report(findings)).toEqual([]);
  });

  it('answers clients that send one byte at a time as if they had sent at once', async () => {
    expect(report((await slowClients(port, target, { dripMs: 8, ownServer: true })).findings)).toEqual([]);
  });

  it(`answers ${FLOOD} connections opened at once, each with 200`, async () => {
    const { findings, ms } = await flood(port, target, FLOOD);
    process.stdout.write(`standalone flood: ${FLOOD} calls in ${ms} ms\n`);
    expect(report(findings)).toEqual([]);
  });

  it(`answers a request left incomplete, and closes a silent connection, within ${IDLE_LIMIT_MS / 1000} s`, async () => {
    expect(report(checkIdle(await idle))).toEqual([]);
  });

  const runEndpoints = async (target: number, cases: readonly EndpointCase[]) => {
    const outcomes = await pool(cases.length, CONCURRENCY, (i) =>
      exchange({ port: target, segments: [cases[i]!.bytes], head: cases[i]!.head, halfClose: cases[i]!.halfClose, timeoutMs: 10_000 }),
    );
    const findings = cases.flatMap((c, i) => {
      const problems = endpointViolations(c, outcomes[i]!);
      return problems.length === 0 ? [] : [`${problems.join('; ')}\n    e.g. ${c.label}\n    sent: ${printable(c.bytes, 200)}`];
    });
    const statuses = new Map<string, number>();
    for (const outcome of outcomes) {
      const key = outcome.kind === 'answer' ? String(outcome.response.status) : outcome.kind;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    return { findings: [...new Set(findings)], statuses: Object.fromEntries([...statuses].sort()) };
  };

  it(`answers ~${ENDPOINT_REQUESTS} generated /metrics and /healthz requests by their rules, scrape token set`, async () => {
    const { findings, statuses } = await runEndpoints(guardedPort, [...endpointCases(SCRAPE, SEED + 1, ENDPOINT_REQUESTS), ...endpointGarbage(SCRAPE)]);
    process.stdout.write(`standalone endpoints (token): ${JSON.stringify(statuses)}\n`);
    expect(findings.slice(0, 20)).toEqual([]);
    // Every rule was reached: let in, refused, wrong method, near-miss paths.
    expect(Object.keys(statuses)).toEqual(expect.arrayContaining(['200', '400', '401', '404', '405']));
  });

  it(`answers ~${ENDPOINT_REQUESTS} generated /metrics and /healthz requests by their rules, no scrape token (loopback)`, async () => {
    const { findings, statuses } = await runEndpoints(port, endpointCases(undefined, SEED + 2, ENDPOINT_REQUESTS));
    process.stdout.write(`standalone endpoints (no token): ${JSON.stringify(statuses)}\n`);
    expect(findings.slice(0, 20)).toEqual([]);
    expect(Object.keys(statuses)).toEqual(expect.arrayContaining(['200', '404', '405']));
  });

  it(`answers ${ENDPOINT_FLOOD} scrapes opened at once, each with 200 and the whole text`, async () => {
    const bytes = (path: string) => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SCRAPE}\r\nConnection: close\r\n\r\n`, 'latin1');
    const cases: EndpointCase[] = Array.from({ length: ENDPOINT_FLOOD }, (_, i) => ({
      family: 'flood',
      label: `flood ${i}`,
      bytes: bytes(i % 2 === 0 ? '/metrics' : '/healthz'),
      head: false,
      halfClose: false,
      status: 200,
      endpoint: i % 2 === 0 ? 'metrics' : 'healthz',
    }));
    const started = Date.now();
    const outcomes = await Promise.all(cases.map((c) => exchange({ port: guardedPort, segments: [c.bytes], timeoutMs: 60_000 })));
    process.stdout.write(`standalone endpoints flood: ${ENDPOINT_FLOOD} scrapes in ${Date.now() - started} ms\n`);
    expect(cases.flatMap((c, i) => endpointViolations(c, outcomes[i]!)).slice(0, 10)).toEqual([]);
  });

  it(`answers ~${CLOUD_REQUESTS} generated requests to the Cloud API webhook (/whatsapp/cloud-api) by its contract`, async () => {
    const ran = await runCloud(port, cloudCases, CONCURRENCY);
    process.stdout.write(`standalone cloud-api: ${ran.cases.length} requests in ${ran.ms} ms\n${cloudHistogram(ran)}\n`);
    const findings = checkCloud(ran);
    dump('standalone-server-cloud-api', findings);
    expect(report(findings)).toEqual([]);
    // Every rule was reached: the challenge, each refusal, a taken POST, a neighbouring path.
    expect([...new Set(ran.outcomes.map(statusOf))]).toEqual(expect.arrayContaining([200, 400, 401, 403, 404, 405, 413]));
  });

  it('answers protocol-level garbage on the Cloud API path with the contract’s JSON 400', async () => {
    const ran = await run(port, garbageCases({ ...target, token: 'cloud-api' }, { seed: SEED + 4, requests: 0, garbage: CLOUD_GARBAGE }), CONCURRENCY);
    process.stdout.write(`standalone cloud-api garbage: ${ran.cases.length} requests in ${ran.ms} ms\n`);
    const findings = check(ran);
    dump('standalone-server-cloud-api-garbage', findings, ran);
    expect(report(findings)).toEqual([]);
  });

  it('answers Cloud API clients that send one byte at a time as if they had sent at once', async () => {
    expect(report(await cloudSlowClients(port, cloudTarget, 8))).toEqual([]);
  });

  it(`answers ${CLOUD_FLOOD} signed receipts opened at once, each with 200`, async () => {
    const { findings, ms } = await cloudFlood(port, cloudTarget, CLOUD_FLOOD);
    process.stdout.write(`standalone cloud-api flood: ${CLOUD_FLOOD} receipts in ${ms} ms\n`);
    expect(report(findings)).toEqual([]);
  });

  it(`answers a Cloud API request left incomplete, and closes a silent connection, within ${IDLE_LIMIT_MS / 1000} s`, async () => {
    expect(report(checkIdle(await cloudIdle))).toEqual([]);
  });

  it('still serves afterwards: a valid call gets 200, the verification its challenge and a receipt 200, and the workspace reported no error', async () => {
    expect(server.listening).toBe(true);
    expect(report((await validCall(port, target)).findings)).toEqual([]);
    expect(report(await cloudLiveness(port, cloudTarget, 'at the end'))).toEqual([]);
    // The Cloud API webhook's refusals are reported as warnings (one sentence each); nothing else.
    const errors = ws.errors.map(String);
    expect(errors.filter((error) => !CLOUD_WARNING.test(error))).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
  });
});
