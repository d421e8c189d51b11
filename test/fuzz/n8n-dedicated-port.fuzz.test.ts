/**
 * Fuzz of the n8n trigger's Dedicated Port: the trigger started through trigger() as n8n starts it (a
 * mocked ITriggerFunctions, as in test/n8n/trigger.test.ts, over a real credential: a temp store with a
 * dry-run account and a fixed initial token), serving on a real port on 127.0.0.1. The port is the core's
 * own server, so every request is ours: every answer keeps the contract, and protocol-level garbage gets
 * the contract's JSON 400. Each accepted call also starts exactly one execution ("Each message").
 * The credential has a Cloud API number (its Graph API a local fake, through WAHOOK_GRAPH_API_URL), so the
 * port serves Meta's webhook at /whatsapp/cloud-api too, fuzzed as in standalone-server.fuzz.test.ts
 * (support/cloud-api.ts); what it takes starts no execution.
 */
import type { ITriggerResponse } from 'n8n-workflow';
import { WhatsAppTrigger } from '../../nodes/n8n/WhatsAppTrigger/WhatsAppTrigger.node';
import { releaseIdleWorkspaces } from '../../nodes/n8n/common/workspace-access';
import { workspaces } from '../../shared';
import { GRAPH_API_URL_ENV } from '../../shared/hosting/workspace-options';
import { freePort } from '../e2e/support/node-red';
import { FakeGraphApi } from '../support/fake-graph-api';
import { eventually, testCredential, TOKEN, triggerContext } from '../n8n/helpers';
import { check, dump, checkIdle, flood, generate, histogram, is200, report, run, slowClients, startIdle, validCall, IDLE_LIMIT_MS, type Ran } from './support/campaign';
import { garbageCases, type Target } from './support/cases';
import { statusOf } from './support/contract';
import { checkCloud, cloudApiCases, cloudFlood, cloudHistogram, cloudLiveness, cloudSlowClients, runCloud, type CloudTarget } from './support/cloud-api';

const SEED = 0x5eed_0002;
const REQUESTS = 2000;
const GARBAGE = 200;
const CONCURRENCY = 16;
const FLOOD = 300;
const CLOUD_REQUESTS = 1500;
const CLOUD_GARBAGE = 60;
const CLOUD_FLOOD = 200;
const VERIFY_TOKEN = 'fuzz-port-verify-token-0123456789';

jest.setTimeout(120_000);

describe('fuzz: the n8n trigger’s Dedicated Port', () => {
  const graph = new FakeGraphApi();
  const store = testCredential({
    quotaAllowance: 10_000_000,
    quotaPeriod: 'none',
    cloudApiPhoneNumberId: graph.phoneNumberId,
    cloudApiAccessToken: graph.accessToken,
    cloudApiAppSecret: graph.appSecret,
    cloudApiVerifyToken: VERIFY_TOKEN,
  });
  const cloudTarget: CloudTarget = { prefix: '/whatsapp/', engine: 'standalone', verifyToken: VERIFY_TOKEN, appSecret: graph.appSecret, phoneNumberId: graph.phoneNumberId };
  const cloudCases = cloudApiCases(cloudTarget, { seed: SEED + 3, requests: CLOUD_REQUESTS });
  let cloudIdle: ReturnType<typeof startIdle>;
  const graphUrlBefore = process.env[GRAPH_API_URL_ENV];
  const target: Target = { prefix: '/whatsapp/', token: TOKEN, engine: 'standalone' };
  const cases = generate(target, { seed: SEED, requests: REQUESTS, garbage: GARBAGE });
  const node = new WhatsAppTrigger();
  let port = 0;
  let active: ITriggerResponse | undefined;
  let emitted: ReturnType<typeof triggerContext>['emitted'];
  let idle: ReturnType<typeof startIdle>;
  /** Calls answered 200 so far: each must start one execution. */
  let accepted = 0;
  const count200 = (ran: Ran) => ran.outcomes.filter(is200).length;

  beforeAll(async () => {
    await graph.start();
    // The workspace opens in this process (as in n8n's): its Cloud API account calls the fake.
    process.env[GRAPH_API_URL_ENV] = graph.baseUrl;
    port = await freePort();
    const trigger = triggerContext(store.credential, { dedicatedPort: port, emitStatus: false, emission: 'each' });
    emitted = trigger.emitted;
    active = await node.trigger.call(trigger.context);
    idle = startIdle(port, target);
    cloudIdle = startIdle(port, { ...target, token: 'cloud-api' });
  });

  afterAll(async () => {
    await active?.closeFunction?.();
    await releaseIdleWorkspaces();
    store.cleanup();
    await graph.close();
    if (graphUrlBefore === undefined) delete process.env[GRAPH_API_URL_ENV];
    else process.env[GRAPH_API_URL_ENV] = graphUrlBefore;
  });

  it(`answers ~${REQUESTS} generated requests by the contract`, async () => {
    const ran = await run(port, cases.requests, CONCURRENCY);
    accepted += count200(ran);
    process.stdout.write(`dedicated port: ${ran.cases.length} requests in ${ran.ms} ms\n${histogram(ran)}\n`);
    const findings = check(ran);
    dump('n8n-dedicated-port-1', findings, ran);
    expect(report(findings)).toEqual([]);
  });

  it('answers protocol-level garbage (refused by Node’s parser) with the contract’s JSON 400', async () => {
    const ran = await run(port, cases.garbage, CONCURRENCY);
    accepted += count200(ran);
    process.stdout.write(`dedicated port garbage: ${ran.cases.length} requests in ${ran.ms} ms\n${histogram(ran)}\n`);
    const findings = check(ran);
    dump('n8n-dedicated-port-2', findings, ran);
    expect(report(findings)).toEqual([]);
  });

  it('answers clients that send one byte at a time as if they had sent at once', async () => {
    const { findings, answered200 } = await slowClients(port, target, { dripMs: 8, ownServer: true });
    accepted += answered200;
    expect(report(findings)).toEqual([]);
  });

  it(`answers ${FLOOD} connections opened at once, each with 200`, async () => {
    const { findings, ms, answered200 } = await flood(port, target, FLOOD);
    accepted += answered200;
    process.stdout.write(`dedicated port flood: ${FLOOD} calls in ${ms} ms\n`);
    expect(report(findings)).toEqual([]);
  });

  it(`answers a request left incomplete, and closes a silent connection, within ${IDLE_LIMIT_MS / 1000} s`, async () => {
    expect(report(checkIdle(await idle))).toEqual([]);
  });

  it(`answers ~${CLOUD_REQUESTS} generated requests to the Cloud API webhook (/whatsapp/cloud-api) by its contract`, async () => {
    const ran = await runCloud(port, cloudCases, CONCURRENCY);
    process.stdout.write(`dedicated port cloud-api: ${ran.cases.length} requests in ${ran.ms} ms\n${cloudHistogram(ran)}\n`);
    const findings = checkCloud(ran);
    dump('n8n-dedicated-port-cloud-api', findings);
    expect(report(findings)).toEqual([]);
    // Every rule was reached: the challenge, each refusal, a taken POST, a neighbouring path.
    expect([...new Set(ran.outcomes.map(statusOf))]).toEqual(expect.arrayContaining([200, 400, 401, 403, 404, 405, 413]));
  });

  it('answers protocol-level garbage on the Cloud API path with the contract’s JSON 400', async () => {
    const ran = await run(port, garbageCases({ ...target, token: 'cloud-api' }, { seed: SEED + 4, requests: 0, garbage: CLOUD_GARBAGE }), CONCURRENCY);
    const findings = check(ran);
    dump('n8n-dedicated-port-cloud-api-garbage', findings, ran);
    expect(report(findings)).toEqual([]);
  });

  it('answers Cloud API clients that send one byte at a time as if they had sent at once', async () => {
    expect(report(await cloudSlowClients(port, cloudTarget, 8))).toEqual([]);
  });

  it(`answers ${CLOUD_FLOOD} signed receipts opened at once, each with 200`, async () => {
    const { findings, ms } = await cloudFlood(port, cloudTarget, CLOUD_FLOOD);
    process.stdout.write(`dedicated port cloud-api flood: ${CLOUD_FLOOD} receipts in ${ms} ms\n`);
    expect(report(findings)).toEqual([]);
  });

  it(`answers a Cloud API request left incomplete, and closes a silent connection, within ${IDLE_LIMIT_MS / 1000} s`, async () => {
    expect(report(checkIdle(await cloudIdle))).toEqual([]);
  });

  it('still serves afterwards: a valid call gets 200 (the verification its challenge, a receipt 200), and every accepted call started one execution', async () => {
    const { findings, answered200 } = await validCall(port, target);
    expect(report(findings)).toEqual([]);
    expect(report(await cloudLiveness(port, cloudTarget, 'at the end'))).toEqual([]);
    accepted += answered200;
    await eventually(() => emitted.length >= accepted, 20_000).catch(() => undefined);
    expect(emitted.length).toBe(accepted);
    expect(workspaces.openKeys()).toHaveLength(1);
  });
});
