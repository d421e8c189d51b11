import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeRed, waitFor } from './support/node-red';
import { nodeIdOf, tab, tokenOf, webhook, workspace } from './support/flows';
import { METRIC_FAMILY_COUNT, readScrape } from '../support/prometheus';

// A real Node-RED 5 with adminAuth: the workspace's /metrics and /healthz admin endpoints need the editor's
// read permission, or the workspace's scrape token instead (a Prometheus without editor access).

// bcrypt hashes (cost 8) of "sidebar-admin-password" and "sidebar-viewer-password" (as the sidebar's browser test).
const ADMIN = { username: 'admin', password: 'sidebar-admin-password', hash: '$2b$08$Tvn5gLWQsSEg5VNVnZDKWu.xq6hUOZbiRB8EdVIsKLjxJkfPH1r1.' };
const VIEWER = { username: 'viewer', password: 'sidebar-viewer-password', hash: '$2b$08$mQFcYuDI3.VgvXQ04B8knecFt5vGRAKChrfSEWrOjDj3Q8LcvnJDS' };
/** May read the flows, not the WhatsApp workspaces. */
const FLOWS_ONLY = { username: 'flows', password: VIEWER.password, hash: VIEWER.hash, scope: 'flows.read' };
const SCRAPE = 'node-red-scrape-token-0123456789';
const GUARDED = 'scraped';
const OPEN = 'unscraped';
const NEITHER =
  'The token is neither this workspace\'s scrape token nor an editor access token with the whatsapp-workspace.read permission: send the workspace\'s Scrape token as "Authorization: Bearer <token>".';

describe('Node-RED end to end: /metrics and /healthz under adminAuth', () => {
  let userDir: string;
  let red: NodeRed;
  let viewer: string;
  let flowsOnly: string;

  const tokenFor = async (user: { username: string; password: string }, scope = 'read') => {
    const response = await fetch(`${red.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username: user.username, password: user.password }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const get = async (name: string, endpoint: 'metrics' | 'healthz', headers: Record<string, string> = {}, query = '') => {
    const response = await fetch(`${red.url}/whatsapp-workspace/${nodeIdOf(name)}/${endpoint}${query}`, { headers });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const send = (name: string) =>
    fetch(`${red.url}/whatsapp/${tokenOf(name)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'scraped' }) });

  beforeAll(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-e2e-metrics-'));
    red = await NodeRed.start(userDir, {
      settings: {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: ADMIN.username, password: ADMIN.hash, permissions: '*' },
            { username: VIEWER.username, password: VIEWER.hash, permissions: 'read' },
            { username: FLOWS_ONLY.username, password: FLOWS_ONLY.hash, permissions: FLOWS_ONLY.scope },
          ],
        },
      },
    });
    await red.login(ADMIN.username, ADMIN.password);
    // The scrape token is a credential of the config node, deployed as the editor sends it.
    await red.deploy([tab(), { ...workspace(GUARDED), credentials: { metricsToken: SCRAPE } }, webhook(GUARDED), workspace(OPEN), webhook(OPEN)]);
    await waitFor('the webhooks', async () => (await send(GUARDED)).status === 200 && (await send(OPEN)).status === 200);
    viewer = await tokenFor(VIEWER);
    flowsOnly = await tokenFor(FLOWS_ONLY, FLOWS_ONLY.scope);
  }, 60_000);

  afterAll(async () => {
    const code = await red?.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    if (red) expect(code).toBe(0);
  }, 20_000);

  it('refuses a caller without the read permission: no token, or a token for the flows only', async () => {
    for (const name of [GUARDED, OPEN]) {
      for (const endpoint of ['metrics', 'healthz'] as const) {
        expect([name, endpoint, (await get(name, endpoint)).status]).toEqual([name, endpoint, 401]);
        expect([name, endpoint, (await get(name, endpoint, bearer(flowsOnly))).status]).toEqual([name, endpoint, 401]);
      }
    }
  });

  it("serves an editor reader with the read permission: the workspace's Prometheus text and health", async () => {
    const metrics = await get(OPEN, 'metrics', bearer(viewer));
    expect([metrics.status, metrics.type]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    const scrape = readScrape(metrics.text);
    expect(scrape.value('wahook_webhook_calls_total', { status: '200' })).toBeGreaterThanOrEqual(1);
    expect(scrape.value('wahook_messages_accepted_total', { account: 'dry-run-15105566777' })).toBeGreaterThanOrEqual(1);
    expect(scrape.value('wahook_account_state', { account: 'dry-run-15105566777', state: 'open' })).toBe(1);
    const health = await get(OPEN, 'healthz', bearer(viewer));
    expect([health.status, JSON.parse(health.text)]).toEqual([200, { status: 'ok', store: 'reachable', accounts: [{ id: 'dry-run-15105566777', phone: '15105566777', state: 'open' }] }]);
  });

  it("accepts the workspace's scrape token instead of editor auth, as a Bearer header or ?token=", async () => {
    for (const endpoint of ['metrics', 'healthz'] as const) {
      expect([endpoint, (await get(GUARDED, endpoint, bearer(SCRAPE))).status]).toEqual([endpoint, 200]);
      expect([endpoint, (await get(GUARDED, endpoint, {}, `?token=${SCRAPE}`)).status]).toEqual([endpoint, 200]);
      // An editor reader still may, with the scrape token set.
      expect([endpoint, (await get(GUARDED, endpoint, bearer(viewer))).status]).toEqual([endpoint, 200]);
    }
    expect(readScrape((await get(GUARDED, 'metrics', bearer(SCRAPE))).text).value('wahook_queue_depth', { account: 'dry-run-15105566777' })).toBeGreaterThanOrEqual(0);
  });

  it('refuses a wrong scrape token with a sentence; the other workspace\'s token opens only its own', async () => {
    for (const endpoint of ['metrics', 'healthz'] as const) {
      const header = await get(GUARDED, endpoint, bearer(`${SCRAPE}x`));
      expect([endpoint, header.status, JSON.parse(header.text)]).toEqual([endpoint, 401, { status: 401, data: {}, message: NEITHER }]);
      const query = await get(GUARDED, endpoint, {}, '?token=wrong-token-0123456789');
      expect([endpoint, query.status, JSON.parse(query.text).message]).toEqual([endpoint, 401, NEITHER]);
      // The open workspace has no scrape token: SCRAPE is nothing to it.
      expect([endpoint, (await get(OPEN, endpoint, bearer(SCRAPE))).status]).toEqual([endpoint, 401]);
      const none = await get(OPEN, endpoint, {}, `?token=${SCRAPE}`);
      expect([endpoint, none.status, JSON.parse(none.text).message]).toEqual([endpoint, 401, 'This workspace has no scrape token: set its Scrape token, or log in to the editor.']);
    }
  });

  it('answers malformed tokens and queries with a 401 sentence, and a flood of 200 scrapes each with 200', async () => {
    for (const query of ['?token=%', '?token=%E0%A4%A', '?token=a&token=b', `?token=${'x'.repeat(6000)}`]) {
      const refused = await get(GUARDED, 'metrics', {}, query);
      expect([query.slice(0, 20), refused.status, JSON.parse(refused.text).message]).toEqual([query.slice(0, 20), 401, NEITHER]);
    }
    // A Bearer without one token (none, or two) is malformed: Node-RED's own auth (passport) answers 400 before our handler.
    for (const [authorization, status] of [['Bearer', 400], ['Bearer  ', 400], [`Basic ${Buffer.from(`x:${SCRAPE}`).toString('base64')}`, 401], [`Bearer ${SCRAPE} ${SCRAPE}`, 400]] as const) {
      expect([authorization.slice(0, 12), (await get(GUARDED, 'healthz', { authorization })).status]).toEqual([authorization.slice(0, 12), status]);
    }
    const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => get(GUARDED, i % 2 === 0 ? 'metrics' : 'healthz', bearer(SCRAPE))));
    expect(flood.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(flood.filter((_, i) => i % 2 === 0).every((answer) => readScrape(answer.text).families.size === METRIC_FAMILY_COUNT)).toBe(true);
  });

  it('answers 404 for a workspace that is not deployed, to a caller who may read', async () => {
    const response = await fetch(`${red.url}/whatsapp-workspace/no-such-node/metrics`, { headers: bearer(viewer) });
    expect([response.status, ((await response.json()) as { message: string }).message]).toEqual([404, 'This workspace is not deployed yet: deploy it, then open this dialog again.']);
  });
});
