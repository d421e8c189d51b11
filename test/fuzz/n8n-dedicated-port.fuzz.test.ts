/**
 * Fuzz of the n8n trigger's Dedicated Port: the trigger started through trigger() as n8n starts it (a
 * mocked ITriggerFunctions, as in test/n8n/trigger.test.ts, over a real credential: a temp store with a
 * dry-run account and a fixed initial token), serving on a real port on 127.0.0.1. The port is the core's
 * own server, so every request is ours: every answer keeps the contract, and protocol-level garbage gets
 * the contract's JSON 400. Each accepted call also starts exactly one execution ("Each message").
 */
import type { ITriggerResponse } from 'n8n-workflow';
import { WhatsAppTrigger } from '../../nodes/n8n/WhatsAppTrigger/WhatsAppTrigger.node';
import { releaseIdleWorkspaces } from '../../nodes/n8n/common/workspace-access';
import { workspaces } from '../../shared';
import { freePort } from '../e2e/support/node-red';
import { eventually, testCredential, TOKEN, triggerContext } from '../n8n/helpers';
import { check, dump, checkIdle, flood, generate, histogram, is200, report, run, slowClients, startIdle, validCall, IDLE_LIMIT_MS, type Ran } from './support/campaign';
import type { Target } from './support/cases';

const SEED = 0x5eed_0002;
const REQUESTS = 2000;
const GARBAGE = 200;
const CONCURRENCY = 16;
const FLOOD = 300;

jest.setTimeout(120_000);

describe('fuzz: the n8n trigger’s Dedicated Port', () => {
  const store = testCredential({ quotaAllowance: 10_000_000, quotaPeriod: 'none' });
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
    port = await freePort();
    const trigger = triggerContext(store.credential, { dedicatedPort: port, emitStatus: false, emission: 'each' });
    emitted = trigger.emitted;
    active = await node.trigger.call(trigger.context);
    idle = startIdle(port, target);
  });

  afterAll(async () => {
    await active?.closeFunction?.();
    await releaseIdleWorkspaces();
    store.cleanup();
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

  it('still serves afterwards: a valid call gets 200, and every accepted call started one execution', async () => {
    const { findings, answered200 } = await validCall(port, target);
    expect(report(findings)).toEqual([]);
    accepted += answered200;
    await eventually(() => emitted.length >= accepted, 20_000).catch(() => undefined);
    expect(emitted.length).toBe(accepted);
    expect(workspaces.openKeys()).toHaveLength(1);
  });
});
