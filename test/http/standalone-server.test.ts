import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { createWebhookServer } from '../../shared/webhook/standalone-server';
import { checkScrape, ScrapeToken, SCRAPE_TOKEN_MISSING, SCRAPE_TOKEN_UNSET, SCRAPE_TOKEN_WRONG } from '../../shared/hosting/metrics-endpoints';
import { readScrape } from '../support/prometheus';
import { dedicatedHost } from '../../nodes/n8n/WhatsAppTrigger/dedicated-port';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';

/** Sends raw bytes and resolves with everything the server answered before closing (or after 2 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.setTimeout(2000, () => socket.destroy());
    socket.end(bytes);
  });
}

describe('the standalone server (wahook serve, n8n Dedicated Port): malformed requests', () => {
  let t: TestWorkspace;
  let server: Server;
  let port: number;
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  beforeEach(async () => {
    t = await openTestWorkspace();
    await t.workspace.addDryRunAccount('15105566777', 'Sales phone');
    server = createWebhookServer(t.workspace);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it('answers bad percent-encoding with a JSON 404 and keeps serving (it used to end the process)', async () => {
    for (const [method, path] of [['POST', '/whatsapp/%zz'], ['POST', '/whatsapp/%E0%A4%A'], ['GET', '/whatsapp/%']] as const) {
      const answer = await fetch(url(path), { method, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
      expect([path, answer.status, await answer.json()]).toEqual([path, 404, { status: 404, data: {}, message: 'Webhook not found' }]);
    }
    const valid = await fetch(url(`/whatsapp/${t.workspace.webhookState().token}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'still here' }),
    });
    expect(valid.status).toBe(200);
  });

  it('answers what is not HTTP with a JSON 400 and closes', async () => {
    const answer = await raw(port, 'HELLO /whatsapp/x WORLD\r\n\r\n');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      status: 400,
      data: {},
      message: 'The request is not valid HTTP; send a POST with a JSON body to the webhook URL.',
    });
  });

  it('answers 413 as soon as a body passes 256 KiB, without reading the rest', async () => {
    const head = `POST /whatsapp/${t.workspace.webhookState().token} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n`;
    const answer = await raw(port, head + 'x'.repeat(300 * 1024));
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(answer).toContain('"message":"The body is larger than the limit of 262144 bytes (256 KiB); send a smaller request."');
  });
});

describe('the standalone server: /metrics and /healthz', () => {
  const SCRAPE = 'scrape-token-for-tests-0123456789';
  let t: TestWorkspace;
  const servers: Server[] = [];

  const listen = async (options: { metricsToken?: string }, host = '127.0.0.1') => {
    const server = createWebhookServer(t.workspace, options);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return (server.address() as AddressInfo).port;
  };
  const get = async (port: number, path: string, headers: Record<string, string> = {}, method = 'GET', host = '127.0.0.1') => {
    const response = await fetch(`http://${host}:${port}${path}`, { method, headers });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };

  beforeEach(async () => {
    t = await openTestWorkspace();
    await t.workspace.addDryRunAccount('15105566777', 'Sales phone');
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await t.close();
  });

  it('with a scrape token: 401 without it or with a wrong one, 200 with it (header or ?token=)', async () => {
    const port = await listen({ metricsToken: SCRAPE });
    for (const path of ['/metrics', '/healthz']) {
      const missing = await get(port, path);
      expect([path, missing.status, JSON.parse(missing.text), missing.headers.get('www-authenticate')]).toEqual([
        path,
        401,
        { status: 401, data: {}, message: SCRAPE_TOKEN_MISSING },
        'Bearer realm="wahook"',
      ]);
      const wrong = await get(port, path, { authorization: `Bearer ${SCRAPE}x` });
      expect([path, wrong.status, JSON.parse(wrong.text).message]).toEqual([path, 401, SCRAPE_TOKEN_WRONG]);
      expect([path, (await get(port, `${path}?token=nope-nope-nope-nope`)).status]).toEqual([path, 401]);
      expect([path, (await get(port, path, { authorization: `Bearer ${SCRAPE}` })).status]).toEqual([path, 200]);
      expect([path, (await get(port, path, { authorization: `bearer   ${SCRAPE} ` })).status]).toEqual([path, 200]);
      expect([path, (await get(port, `${path}?token=${encodeURIComponent(SCRAPE)}`)).status]).toEqual([path, 200]);
    }
  });

  it('serves the Prometheus text, and /healthz as JSON: 200 while the store answers', async () => {
    const port = await listen({});
    const token = t.workspace.webhookState().token;
    const call = await fetch(`http://127.0.0.1:${port}/whatsapp/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'counted' }),
    });
    expect(call.status).toBe(200);
    const metrics = await get(port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const scrape = readScrape(metrics.text);
    expect(scrape.value('wahook_webhook_calls_total', { status: '200' })).toBe(1);
    expect(scrape.value('wahook_messages_accepted_total', { account: 'dry-run-15105566777' })).toBe(1);
    expect(scrape.value('wahook_account_state', { account: 'dry-run-15105566777', state: 'open' })).toBe(1);
    const health = await get(port, '/healthz');
    expect([health.status, health.headers.get('content-type'), JSON.parse(health.text)]).toEqual([
      200,
      'application/json; charset=utf-8',
      { status: 'ok', store: 'reachable', accounts: [{ id: 'dry-run-15105566777', phone: '15105566777', state: 'open' }] },
    ]);
  });

  it('GET only: other methods get 405 with Allow: GET', async () => {
    const port = await listen({});
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      for (const path of ['/metrics', '/healthz']) {
        const answer = await get(port, path, {}, method);
        expect([method, path, answer.status, answer.headers.get('allow')]).toEqual([method, path, 405, 'GET']);
        if (method !== 'HEAD') expect(JSON.parse(answer.text).message).toBe(`Method ${method} is not allowed: read ${path} with GET.`);
      }
    }
  });

  it('/healthz is 503 "down" and /metrics 503 once the store is closed', async () => {
    const port = await listen({});
    await t.workspace.store.close();
    const health = await get(port, '/healthz');
    expect([health.status, health.headers.get('retry-after'), JSON.parse(health.text)]).toEqual([
      503,
      '5',
      { status: 'down', store: 'The workspace is closing or being reopened.', accounts: [{ id: 'dry-run-15105566777', phone: '15105566777', state: 'open' }] },
    ]);
    const metrics = await get(port, '/metrics');
    expect([metrics.status, JSON.parse(metrics.text).message]).toEqual([503, 'The workspace is closing or being reopened. The metrics cannot be read now; retry in a few seconds.']);
  });

  it('without a scrape token answers callers on this machine only: another address gets 403 saying to set one', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry?.family === 'IPv4' && !entry.internal)?.address;
    if (!external) throw new Error('This test needs a non-loopback IPv4 address on the machine (none found).');
    const port = await listen({}, '0.0.0.0');
    expect((await get(port, '/healthz')).status).toBe(200);
    for (const path of ['/metrics', '/healthz']) {
      const refused = await get(port, path, {}, 'GET', external);
      expect([path, refused.status, JSON.parse(refused.text).message]).toEqual([path, 403, SCRAPE_TOKEN_UNSET]);
    }
    // With a token, another machine is served when it presents it.
    const withToken = await listen({ metricsToken: SCRAPE }, '0.0.0.0');
    expect((await get(withToken, '/healthz', { authorization: `Bearer ${SCRAPE}` }, 'GET', external)).status).toBe(200);
  });

  it('checks the scrape token in constant time over its digest, and the rule by address', () => {
    const token = new ScrapeToken(SCRAPE);
    expect([token.matches(SCRAPE), token.matches(SCRAPE.slice(1)), token.matches('')]).toEqual([true, false, false]);
    for (const local of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect([local, checkScrape(undefined, undefined, local)]).toEqual([local, undefined]);
    for (const remote of ['10.0.0.5', '::ffff:10.0.0.5', 'fd00::2', undefined]) expect([remote, checkScrape(undefined, undefined, remote)?.status]).toEqual([remote, 403]);
    expect(checkScrape(token, { token: SCRAPE }, '10.0.0.5')).toBeUndefined();
  });
});

describe('the Dedicated Port address', () => {
  it("is the node's setting, else n8n's N8N_LISTEN_ADDRESS, else every interface", () => {
    expect(dedicatedHost(' 10.1.2.3 ', { N8N_LISTEN_ADDRESS: '127.0.0.1' })).toBe('10.1.2.3');
    expect(dedicatedHost('', { N8N_LISTEN_ADDRESS: '127.0.0.1' })).toBe('127.0.0.1');
    expect(dedicatedHost('', {})).toBeUndefined();
  });
});
