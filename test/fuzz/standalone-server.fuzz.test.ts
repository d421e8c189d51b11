/**
 * Fuzz of the standalone webhook server (shared/webhook/standalone-server.ts createWebhookServer), in this
 * process, on a real workspace: a temp SQLite store and a dry-run account. Raw TCP from 127.0.0.1 only.
 * Every request it receives is ours, so every answer must keep the contract; protocol-level garbage
 * that Node's parser refuses must get the contract's JSON 400 (through the server's clientError handler).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookServer } from '../../shared/webhook/standalone-server';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';
import { check, dump, checkIdle, flood, generate, histogram, report, run, slowClients, startIdle, validCall, IDLE_LIMIT_MS } from './support/campaign';
import type { Target } from './support/cases';

const SEED = 0x5eed_0001;
const REQUESTS = 2000;
const GARBAGE = 200;
const CONCURRENCY = 16;
const FLOOD = 300;
const TOKEN = 'fuzz-standalone-token-0123456789';

jest.setTimeout(120_000);

describe('fuzz: the standalone webhook server', () => {
  let ws: TestWorkspace;
  let server: Server;
  let port = 0;
  const target: Target = { prefix: '/whatsapp/', token: TOKEN, engine: 'standalone' };
  const cases = generate(target, { seed: SEED, requests: REQUESTS, garbage: GARBAGE });
  let idle: ReturnType<typeof startIdle>;

  beforeAll(async () => {
    ws = await openTestWorkspace({ initialToken: TOKEN, quota: { period: 'none', allowance: 1_000_000 } });
    await ws.workspace.addDryRunAccount('15105566777', 'fuzz dry run');
    server = createWebhookServer(ws.workspace);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    // Idle clients first: they wait out the stated limit while everything else runs.
    idle = startIdle(port, target);
  });

  afterAll(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await ws?.close();
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

  it('still serves afterwards: a valid call gets 200, and the workspace reported no error', async () => {
    expect(server.listening).toBe(true);
    expect(report((await validCall(port, target)).findings)).toEqual([]);
    expect(ws.errors.map(String)).toEqual([]);
  });
});
