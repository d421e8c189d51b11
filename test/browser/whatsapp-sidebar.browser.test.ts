import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { qrDataUrl } from '../../shared/transport/linking';
import { NodeRed, waitFor } from '../e2e/support/node-red';
import { DRY_RUN_PHONE, nodeIdOf, tab, tokenOf, webhook, workspace } from '../e2e/support/flows';
import { silentServer, type SilentServer } from './support/silent-server';

// The editor's "WhatsApp" sidebar tab in headless Chromium (Debian's chromium via playwright-core), against
// a real Node-RED with adminAuth: the tab lists every deployed workspace with the URL that answers, its
// accounts, quota and last failures; a rotate through the admin API shows in the tab; Link opens the live
// QR view. No WhatsApp is reachable here: Link starts a real linking socket against a local server that
// never answers, and the QR is published on the workspace's comms topic by a test-only endpoint
// (support/comms-publisher.js), as the dialog's test does. On failure a screenshot goes to a temp folder.

const CHROMIUM = process.env.WAHOOK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// bcrypt hashes (cost 8) of "sidebar-admin-password" and "sidebar-viewer-password".
const ADMIN = { username: 'admin', password: 'sidebar-admin-password', hash: '$2b$08$Tvn5gLWQsSEg5VNVnZDKWu.xq6hUOZbiRB8EdVIsKLjxJkfPH1r1.' };
const VIEWER = { username: 'viewer', password: 'sidebar-viewer-password', hash: '$2b$08$mQFcYuDI3.VgvXQ04B8knecFt5vGRAKChrfSEWrOjDj3Q8LcvnJDS' };
const MAIN = 'sidebar';
const SECOND = 'second';
const SECOND_PHONES = '+15105566778, +15105566779';

describe('the WhatsApp sidebar tab in headless Chromium', () => {
  let userDir: string;
  let red: NodeRed;
  let silent: SilentServer;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (the browser tests need Debian's chromium).`);
    }
    userDir = mkdtempSync(join(tmpdir(), 'wahook-sidebar-'));
    mkdirSync(join(userDir, 'nodes'));
    for (const file of ['comms-publisher.js', 'comms-publisher.html']) copyFileSync(join(__dirname, 'support', file), join(userDir, 'nodes', file));
    silent = await silentServer();
    red = await NodeRed.start(userDir, {
      env: { WAHOOK_WA_WEBSOCKET_URL: `ws://127.0.0.1:${silent.port}/ws/chat` },
      settings: {
        telemetry: { enabled: false },
        editorTheme: { tours: false },
        adminAuth: {
          type: 'credentials',
          users: [
            { username: ADMIN.username, password: ADMIN.hash, permissions: '*' },
            { username: VIEWER.username, password: VIEWER.hash, permissions: 'read' },
          ],
        },
      },
    });
    await red.login(ADMIN.username, ADMIN.password);
    await red.deploy([tab(), workspace(MAIN), webhook(MAIN), workspace(SECOND, { dryRunPhones: SECOND_PHONES, quotaAllowance: '50', quotaPeriod: 'daily' })]);
    await waitFor('the webhook', async () => (await post(`${red.url}/whatsapp/${tokenOf(MAIN)}`, 'hello', 'text/plain')).status === 415);
    // A message to a number that is not on WhatsApp (dry run: ending in 0000) fails: a "last failure".
    expect((await post(`${red.url}/whatsapp/${tokenOf(MAIN)}`, JSON.stringify({ action: 'send', phone: '+14150000000', text: 'hi' }))).status).toBe(200);

    context = await chromium.launchPersistentContext(join(userDir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    const code = await red?.stop();
    for (const socket of silent?.sockets ?? []) socket.destroy();
    await new Promise((resolve) => (silent ? silent.server.close(resolve) : resolve(undefined)));
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    if (red) expect(code).toBe(0);
  }, 30_000);

  /** Runs a step; on failure, a screenshot of the editor is written to a temp folder named in the error. */
  async function step(name: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      const file = join(mkdtempSync(join(tmpdir(), 'wahook-sidebar-failure-')), `${name}.png`);
      await page?.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      throw new Error(`${String(error instanceof Error ? error.stack : error)}\nscreenshot: ${file}`);
    }
  }

  const card = (name: string) => page.locator(`.wa-ws[data-id="${nodeIdOf(name)}"]`);

  it('refuses the workspace list without a token, and writes to a read-only user', () => step('permissions', async () => {
    const list = `${red.url}/whatsapp-workspaces`;
    expect((await fetch(list)).status).toBe(401);
    expect((await fetch(`${red.url}/whatsapp-workspace/${nodeIdOf(MAIN)}/rotate`, { method: 'POST' })).status).toBe(401);
    const viewer = await tokenFor(VIEWER);
    const read = await fetch(list, { headers: { authorization: `Bearer ${viewer}` } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { workspaces: { id: string }[] }).workspaces.map((entry) => entry.id)).toEqual([nodeIdOf(MAIN), nodeIdOf(SECOND)]);
    for (const write of ['rotate', 'link', 'enabled']) {
      const refused = await fetch(`${red.url}/whatsapp-workspace/${nodeIdOf(MAIN)}/${write}`, { method: 'POST', headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' }, body: '{}' });
      // Node-RED's needsPermission answers 401 for a token without the permission, too.
      expect([write, refused.status]).toEqual([write, 401]);
    }
  }));

  it('lists every workspace with the URL that answers, its accounts, quota and last failures', () =>
    step('listing', async () => {
      await openEditor();
      await page.locator('button[data-tab-id="whatsapp"]').click();
      await card(MAIN).locator('.wa-url').waitFor({ state: 'visible' });

      const url = await card(MAIN).locator('.wa-url').inputValue();
      expect(url).toBe(`${red.url}/whatsapp/${tokenOf(MAIN)}`);
      expect((await post(url, JSON.stringify({ action: 'send', phone: '+14151231234', text: 'from the sidebar URL' }))).status).toBe(200);
      await expect(card(MAIN).locator('.wa-ws-name').innerText()).resolves.toBe(`${MAIN} workspace`);
      await expect(card(MAIN).locator('.wa-enabled').getAttribute('data-enabled')).resolves.toBe('true');
      await expect(card(MAIN).locator('.wa-account').allInnerTexts()).resolves.toEqual([`${DRY_RUN_PHONE} · dry-run · open · 0 queued`]);
      // The refused text/plain call and the message to a number not on WhatsApp, newest first.
      await waitFor('the failed message in the tab', async () => (await card(MAIN).locator('.wa-failure[data-kind="failed"]').count()) === 1);
      await expect(card(MAIN).locator('.wa-failure').allInnerTexts()).resolves.toEqual([
        expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · failed · \+14150000000 is not on WhatsApp$/),
        expect.stringMatching(/ · 415 · The Content-Type header is "text\/plain"; send the body as application\/json\.$/),
      ]);
      // The quota: 1000 in total, the accepted message spent, the failed one refunded.
      await waitFor('the quota after the refund', async () => (await card(MAIN).locator('.wa-quota').innerText()) === 'Quota: 999 of 1000 units left in total');

      await expect(card(SECOND).locator('.wa-url').inputValue()).resolves.toBe(`${red.url}/whatsapp/${tokenOf(SECOND)}`);
      await expect(card(SECOND).locator('.wa-account').allInnerTexts()).resolves.toEqual(['+15105566778 · dry-run · open · 0 queued', '+15105566779 · dry-run · open · 0 queued']);
      await expect(card(SECOND).locator('.wa-quota').innerText()).resolves.toBe('Quota: 50 of 50 units left per day');
      await expect(card(SECOND).locator('.wa-no-failure').innerText()).resolves.toBe('None.');
    }), 60_000);

  it('shows a rotated URL, and the old one stops answering', () =>
    step('rotate', async () => {
      const rotated = await red.admin(`whatsapp-workspace/${nodeIdOf(MAIN)}/rotate`, { method: 'POST' });
      expect(rotated.status).toBe(200);
      const path = ((await rotated.json()) as { webhook: { path: string } }).webhook.path;
      await page.waitForFunction(
        (expected) => (document.querySelector('.wa-ws[data-id="ws-sidebar"] .wa-url') as HTMLInputElement | null)?.value === expected,
        `${red.url}${path}`,
        { timeout: 10_000 },
      );
      const url = await card(MAIN).locator('.wa-url').inputValue();
      expect(url).not.toBe(`${red.url}/whatsapp/${tokenOf(MAIN)}`);
      expect((await post(url, JSON.stringify({ action: 'send', phone: '+14151231234', text: 'after the rotate' }))).status).toBe(200);
      expect((await post(`${red.url}/whatsapp/${tokenOf(MAIN)}`, '{}')).status).toBe(404);
    }), 30_000);

  it('opens the live QR view on Link and shows the QR published on the workspace’s topic', () =>
    step('link', async () => {
      const qr = card(MAIN).locator('.wa-qr');
      await expect(qr.isVisible()).resolves.toBe(false);
      await card(MAIN).locator('.wa-link').click();
      await expect(card(MAIN).locator('.wa-link-status').innerText()).resolves.toBe('Waiting for WhatsApp… scan the QR in WhatsApp → Linked devices.');
      await waitFor('the linking socket to connect', () => silent.sockets.size > 0);
      const dataUrl = await qrDataUrl('2@e2e-sidebar-ref,bm9pc2Uta2V5,aWRlbnRpdHkta2V5,YWR2LXNlY3JldA==');
      const published = await red.admin('e2e-test/comms-publish', { method: 'POST', body: { topic: `whatsapp-workspace/${nodeIdOf(MAIN)}/link`, data: { qr: 'e2e', dataUrl } } });
      expect(published.status).toBe(200);
      await qr.waitFor({ state: 'visible' });
      await expect(qr.getAttribute('src')).resolves.toBe(dataUrl);
      await expect(qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).resolves.toBe(true);
      // The QR view survives the tab's refreshes; the other workspace shows none.
      await page.waitForTimeout(2500);
      await expect(qr.isVisible()).resolves.toBe(true);
      await expect(card(SECOND).locator('.wa-qr').isVisible()).resolves.toBe(false);
      await card(MAIN).locator('.wa-qr-close').click();
      await expect(qr.isVisible()).resolves.toBe(false);
      expect(pageErrors).toEqual([]);
    }), 30_000);

  it("shows why an account is paused with the pause's end, also beneath the reason it is reconnecting", () =>
    step('pause', async () => {
      // No WhatsApp here pauses an account: the listing's answer is given two, as the core reports them.
      const reason = 'WhatsApp restricted this account from starting new chats: it refused messages to 2 different contacts within an hour (error 463).';
      const reconnecting = 'The connection to WhatsApp was lost (408); reconnecting. Next attempt in 2 s.';
      await page.route('**/whatsapp-workspaces*', async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { workspaces: { id: string; overview: { accounts: Record<string, unknown>[] } | null }[] };
        const second = body.workspaces.find((entry) => entry.id === nodeIdOf(SECOND))!.overview!;
        const until = '2026-11-20T15:00:00.000Z';
        second.accounts = [
          { ...second.accounts[0], state: 'paused', detail: reason, pauseReason: reason, pausedUntil: until },
          { ...second.accounts[1], state: 'reconnecting', detail: reconnecting, pauseReason: reason, pausedUntil: until },
        ];
        await route.fulfill({ response, json: body });
      });
      try {
        await waitFor('the paused accounts in the tab', async () => (await card(SECOND).locator('.wa-account-pause').count()) === 1);
        await expect(card(SECOND).locator('.wa-account-detail').allInnerTexts()).resolves.toEqual([`${reason} (until 2026-11-20 15:00:00 UTC)`, reconnecting]);
        await expect(card(SECOND).locator('.wa-account-pause').allInnerTexts()).resolves.toEqual([`Paused: ${reason} (until 2026-11-20 15:00:00 UTC)`]);
      } finally {
        await page.unroute('**/whatsapp-workspaces*');
      }
      expect(pageErrors).toEqual([]);
    }), 30_000);

  async function openEditor(): Promise<void> {
    await page.goto(red.url, { timeout: 20_000 });
    await page.locator('#node-dialog-login-username').fill(ADMIN.username);
    await page.locator('#node-dialog-login-password').fill(ADMIN.password);
    await page.locator('#node-dialog-login-submit').click();
    await page.waitForFunction(
      (id) => !!(window as unknown as { RED?: { nodes?: { node?(id: string): unknown } } }).RED?.nodes?.node?.(id),
      nodeIdOf(MAIN),
      { timeout: 20_000 },
    );
  }

  /** A token with the scope `user` has (Node-RED refuses a wider one). */
  async function tokenFor(user: { username: string; password: string }, scope = 'read'): Promise<string> {
    const response = await fetch(`${red.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username: user.username, password: user.password }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }
});

function post(url: string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
}

