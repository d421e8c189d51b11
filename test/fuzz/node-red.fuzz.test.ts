/**
 * Fuzz of the Node-RED route in a real Node-RED 5 process (test/e2e/support/node-red.ts): a flow with a
 * whatsapp-workspace (dry-run phone, fixed initialToken) and a whatsapp-webhook node, deployed through
 * the admin API; raw TCP to 127.0.0.1 only.
 *
 * Requests Express routes to `/whatsapp/:token` reach our handler and must keep the contract, including
 * those whose token segment is not valid percent-encoding (Express refuses to decode them before any
 * handler runs, so the route has to answer them itself). Requests Node-RED's own server answers (no such
 * route, a malformed request, an HTTP/1.1 request without Host) only must not hang; protocol-level garbage
 * only must not take Node-RED down. A WebSocket upgrade request goes to Node-RED's own upgrade listener
 * (editor comms), not to any route: sent, not asserted (Case.engineMayHold). At the end Node-RED is alive and a valid call
 * still gets 200.
 *
 * The workspace also has a WhatsApp Cloud API number (its Graph API a local fake, WAHOOK_GRAPH_API_URL), so
 * Meta's webhook, /whatsapp/cloud-api, is fuzzed too (support/cloud-api.ts): verification queries (malformed
 * escapes, repeated and huge hub parameters), signed, unsigned and wrongly signed bodies of every shape and
 * size, odd methods and neighbouring paths, dripped and flooded calls. Every answer is one of that contract's
 * statuses with its JSON, or the challenge as text for a valid verification.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeRed, waitFor } from '../e2e/support/node-red';
import { tab, tokenOf, webhook, workspace } from '../e2e/support/flows';
import { FakeGraphApi } from '../support/fake-graph-api';
import { check, dump, flood, generate, histogram, holdIdle, report, run, slowClients, validCall } from './support/campaign';
import type { Target } from './support/cases';
import { checkCloud, cloudApiCases, cloudFlood, cloudHistogram, cloudLiveness, cloudSlowClients, runCloud, type CloudTarget } from './support/cloud-api';
import { idle } from './support/raw-http';

const SEED = 0x5eed_0003;
const REQUESTS = 2000;
const GARBAGE = 200;
const CONCURRENCY = 12;
const FLOOD = 300;
const IDLE_CONNECTIONS = 60;
const IDLE_HOLD_MS = 5_000;
const CLOUD_SEED = 0x5eed_0c1d;
const CLOUD_REQUESTS = 1500;
const CLOUD_FLOOD = 150;

jest.setTimeout(120_000);

describe('fuzz: the Node-RED webhook route in a real Node-RED', () => {
  let userDir = '';
  let red: NodeRed | undefined;
  let port = 0;
  const target: Target = { prefix: '/whatsapp/', token: tokenOf('fuzz'), engine: 'node-red' };
  const cases = generate(target, { seed: SEED, requests: REQUESTS, garbage: GARBAGE });
  // Meta's side: the fake Graph API the Cloud API account connects to, and the number's secrets the cases are signed with.
  const graph = new FakeGraphApi();
  const cloud: CloudTarget = { prefix: '/whatsapp/', phoneNumberId: graph.phoneNumberId, appSecret: graph.appSecret, verifyToken: 'fuzz-verify-token' };
  const cloudCases = cloudApiCases(cloud, { seed: CLOUD_SEED, requests: CLOUD_REQUESTS });

  const alive = () => {
    try {
      process.kill(red!.pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-fuzz-nr-'));
    await graph.start();
    red = await NodeRed.start(userDir, { env: { WAHOOK_GRAPH_API_URL: graph.baseUrl } });
    port = Number(new URL(red.url).port);
    await red.deploy([
      tab(),
      {
        ...workspace('fuzz', { quotaAllowance: '10000000', quotaPeriod: 'none', cloudApiPhoneNumberId: graph.phoneNumberId }),
        credentials: { cloudApiAccessToken: graph.accessToken, cloudApiAppSecret: graph.appSecret, cloudApiVerifyToken: cloud.verifyToken },
      },
      webhook('fuzz'),
    ]);
    // Served once its workspace has opened: a GET then answers 405, not 404; the Cloud API's verification 200.
    await waitFor('the fuzz webhook to be served', async () => {
      const answer = await fetch(`${red!.url}/whatsapp/${target.token}`).catch(() => undefined);
      return answer?.status === 405;
    });
    await waitFor('the Cloud API webhook to be served', async () => {
      const answer = await fetch(`${red!.url}/whatsapp/cloud-api?hub.mode=subscribe&hub.verify_token=${cloud.verifyToken}&hub.challenge=1`).catch(() => undefined);
      return answer?.status === 200;
    });
  }, 60_000);

  afterAll(async () => {
    const code = await red?.stop();
    await graph.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    // Node-RED stopped cleanly on SIGINT (only checked when it started).
    if (red) expect(code).toBe(0);
  }, 30_000);

  it(`answers ~${REQUESTS} generated requests: ours by the contract, Node-RED's own without hanging`, async () => {
    const ran = await run(port, cases.requests, CONCURRENCY);
    process.stdout.write(`node-red: ${ran.cases.length} requests (${ran.cases.filter((c) => c.ours).length} routed to the webhook) in ${ran.ms} ms\n${histogram(ran)}\n`);
    const findings = check(ran);
    dump('node-red-1', findings, ran);
    expect(report(findings)).toEqual([]);
    expect(alive()).toBe(true);
  });

  it('survives protocol-level garbage, answering or closing every connection', async () => {
    const ran = await run(port, cases.garbage, CONCURRENCY);
    process.stdout.write(`node-red garbage: ${ran.cases.length} requests in ${ran.ms} ms\n${histogram(ran)}\n`);
    const findings = check(ran);
    dump('node-red-2', findings, ran);
    expect(report(findings)).toEqual([]);
    expect(alive()).toBe(true);
  });

  it('answers clients that send one byte at a time as if they had sent at once', async () => {
    expect(report((await slowClients(port, target, { dripMs: 8, ownServer: false })).findings)).toEqual([]);
  });

  it(`serves valid calls while ${IDLE_CONNECTIONS} idle connections are held open`, async () => {
    const held = holdIdle(port, target, IDLE_CONNECTIONS, IDLE_HOLD_MS);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = await validCall(port, target);
    await held;
    expect(report(during.findings)).toEqual([]);
    expect(alive()).toBe(true);
  });

  it(`answers ${FLOOD} connections opened at once, each with 200`, async () => {
    const { findings, ms } = await flood(port, target, FLOOD);
    process.stdout.write(`node-red flood: ${FLOOD} calls in ${ms} ms\n`);
    expect(report(findings)).toEqual([]);
  });

  it(`answers ~${CLOUD_REQUESTS} generated requests at /whatsapp/cloud-api by the Cloud API webhook's contract`, async () => {
    const ran = await runCloud(port, cloudCases, CONCURRENCY);
    process.stdout.write(`node-red cloud-api: ${ran.cases.length} requests in ${ran.ms} ms\n${cloudHistogram(ran)}\n`);
    const findings = checkCloud(ran);
    dump('node-red-cloud-api', findings);
    expect(report(findings)).toEqual([]);
    expect(alive()).toBe(true);
    expect(report(await cloudLiveness(port, cloud, 'after the generated requests'))).toEqual([]);
  });

  it('answers Cloud API calls sent one byte at a time as if they had been sent at once', async () => {
    expect(report(await cloudSlowClients(port, cloud, 8))).toEqual([]);
  });

  it('answers the Cloud API while idle connections to it are held open, and a flood of signed receipts each with 200', async () => {
    const partial = [
      Buffer.from('GET /whatsapp/cloud-api?hub.mode=subscribe&hub.verify'),
      Buffer.from('POST /whatsapp/cloud-api HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Hub-Signature-256: sha256='),
      Buffer.from('POST /whatsapp/cloud-api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"entry":['),
      Buffer.from('POST /whatsapp/cloud-api HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"en\r\n'),
    ];
    const held = Promise.all(Array.from({ length: 40 }, (_, i) => idle(port, partial[i % partial.length]!, IDLE_HOLD_MS)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(report(await cloudLiveness(port, cloud, 'while idle connections are held'))).toEqual([]);
    await held;
    const { findings, ms } = await cloudFlood(port, cloud, CLOUD_FLOOD);
    process.stdout.write(`node-red cloud-api flood: ${CLOUD_FLOOD} receipts in ${ms} ms\n`);
    expect(report(findings)).toEqual([]);
  });

  it('is alive afterwards: the process runs and a valid call gets 200', async () => {
    expect(alive()).toBe(true);
    expect(report((await validCall(port, target)).findings)).toEqual([]);
    expect(report(await cloudLiveness(port, cloud, 'at the end'))).toEqual([]);
    // The Cloud API's refusals are warnings; nothing it was sent made Node-RED log an error.
    expect(red!.log().split('\n').filter((line) => line.includes('[error]'))).toEqual([]);
    // What Node-RED logged at warn level or above while fuzzed, for the report.
    const logged = red!.log().split('\n').filter((line) => /\[(error|warn)\]/.test(line));
    process.stdout.write(`node-red logged ${logged.length} warnings/errors; first ones:\n${logged.slice(0, 10).join('\n')}\n`);
  });
});
