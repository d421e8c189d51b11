import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { qrDataUrl } from '../../shared/transport/linking';
import { NodeRed, waitFor } from '../e2e/support/node-red';
import { nodeIdOf, tab, tokenOf, webhook, workspace } from '../e2e/support/flows';
import { FakeGraphApi } from '../support/fake-graph-api';
import { silentServer, type SilentServer } from './support/silent-server';

// The editor in headless Chromium (Debian's chromium, driven by playwright-core; no browser download):
// open the workspace dialog and check that the webhook URL, "Generate new URL", the attempts table and
// the QR render. No WhatsApp is reachable here, so "Link a phone" starts a real linking socket against a
// local server that never answers, and the QR WhatsApp would send is published on the dialog's comms
// topic by a test-only endpoint (support/comms-publisher.js): the test proves the dialog shows a QR
// published on that topic, not that Baileys produced one.
// The same Node-RED runs with WAHOOK_GRAPH_API_URL at a local fake Graph API (test/support/fake-graph-api.ts):
// a Cloud API number typed into a second workspace's dialog, saved and deployed from the editor, opens
// against it, and Meta's callback URL the dialog then shows answers Meta's verification request.

// WAHOOK_CHROMIUM only exists to check the missing-browser failure; the suite is written for Debian's path.
const CHROMIUM = process.env.WAHOOK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = '/tmp/wahook-workspace-dialog.png';
const WORKSPACE_ID = nodeIdOf('editor');
const CLOUD_SCREENSHOT = '/tmp/wahook-workspace-cloud-api.png';
const CLOUD_WORKSPACE_ID = nodeIdOf('cloud');
// What the user types: the fake Graph API takes exactly this number and token.
const TYPED = {
  phoneNumberId: '106540352242922',
  accessToken: 'EAAtypedInTheEditor0123456789',
  appSecret: 'typed-app-secret-4f2a9c',
  verifyToken: 'typed-verify-token-8d1e7b',
};

describe('the workspace dialog in headless Chromium', () => {
  let userDir: string;
  let red: NodeRed;
  let silent: SilentServer;
  let graph: FakeGraphApi;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (the browser tests need Debian's chromium).`);
    }
    userDir = mkdtempSync(join(tmpdir(), 'wahook-browser-'));
    mkdirSync(join(userDir, 'nodes'));
    for (const file of ['comms-publisher.js', 'comms-publisher.html']) copyFileSync(join(__dirname, 'support', file), join(userDir, 'nodes', file));
    silent = await silentServer();
    graph = await new FakeGraphApi({ phoneNumberId: TYPED.phoneNumberId, accessToken: TYPED.accessToken, appSecret: TYPED.appSecret }).start();
    red = await NodeRed.start(userDir, {
      env: { WAHOOK_WA_WEBSOCKET_URL: `ws://127.0.0.1:${silent.port}/ws/chat`, WAHOOK_GRAPH_API_URL: graph.baseUrl },
      // No "Enable Update Notifications" prompt or welcome tour over the editor (and no update check).
      settings: { telemetry: { enabled: false }, editorTheme: { tours: false } },
    });
    // A second workspace, deployed without a Cloud API number (and no dry-run phone): the user adds the number in its dialog.
    await red.deploy([tab(), workspace('editor'), webhook('editor'), workspace('cloud', { dryRunPhones: '' }), { ...webhook('cloud'), y: 200 }]);
    await waitFor('the webhook', async () => (await post(tokenOf('editor'), 'hello', 'text/plain')).status === 415);
    expect((await post(tokenOf('editor'), JSON.stringify({ action: 'send', phone: '+14151231234', text: 'hi' }))).status).toBe(200);

    context = await chromium.launchPersistentContext(join(userDir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    const code = await red?.stop();
    for (const socket of silent?.sockets ?? []) socket.destroy();
    await new Promise((resolve) => (silent ? silent.server.close(resolve) : resolve(undefined)));
    await graph?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    // Node-RED stopped cleanly on SIGINT (only checked when it started).
    if (red) expect(code).toBe(0);
  }, 30_000);

  const post = (token: string, body: string, contentType = 'application/json') =>
    fetch(`${red.url}/whatsapp/${token}`, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('shows the URL, rotate button, attempts table and a published QR', async () => {
    try {
      await checkDialog();
    } catch (error) {
      await page.screenshot({ path: '/tmp/wahook-workspace-dialog-failure.png', fullPage: true }).catch(() => undefined);
      throw error;
    }
  }, 60_000);

  it('saves a Cloud API number typed into the dialog, deploys it, and shows its callback URL and account', async () => {
    try {
      await checkCloudApi();
    } catch (error) {
      await page.screenshot({ path: '/tmp/wahook-workspace-cloud-api-failure.png', fullPage: true }).catch(() => undefined);
      throw error;
    }
  }, 120_000);

  async function checkDialog(): Promise<void> {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(red.url, { timeout: 20_000 });
    await page.waitForFunction(() => typeof (window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node === 'function' && !!(window as unknown as { RED: { nodes: { node(id: string): unknown } } }).RED.nodes.node('ws-editor'), null, { timeout: 20_000 });

    // Open the dialog the way the pencil next to a node's workspace field does.
    await page.evaluate((id) => (window as unknown as { RED: { editor: { editConfig(a: string, t: string, id: string): void } } }).RED.editor.editConfig('', 'whatsapp-workspace', id), WORKSPACE_ID);
    await page.locator('#wa-live').waitFor({ state: 'visible', timeout: 10_000 });

    await expect(page.locator('#wa-webhook-url').inputValue()).resolves.toBe(`${red.url}/whatsapp/${tokenOf('editor')}`);
    await expect(page.locator('#wa-webhook-enabled').isChecked()).resolves.toBe(true);
    await expect(page.locator('#wa-rotate').innerText()).resolves.toBe('Generate new URL');
    await expect(page.locator('#wa-link').innerText()).resolves.toBe('Link a phone');
    await expect(page.locator('#wa-accounts li').allInnerTexts()).resolves.toEqual(['+15105566777 · dry-run · open']);
    // The attempts table: newest first, status and result per row.
    const rows = page.locator('#wa-attempts tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(0).locator('td').nth(1).innerText()).resolves.toBe('200');
    await expect(rows.nth(1).locator('td').allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      '415',
      'The Content-Type header is "text/plain"; send the body as application/json.',
    ]);

    // "Link a phone": the real linking socket starts (it reaches our silent server); the QR is hidden.
    await expect(page.locator('#wa-qr').isVisible()).resolves.toBe(false);
    await page.locator('#wa-link').click();
    await expect(page.locator('#wa-link-status').innerText()).resolves.toBe('Waiting for WhatsApp…');
    await waitFor('the linking socket to connect', () => silent.sockets.size > 0);
    const dataUrl = await qrDataUrl('2@e2e-test-ref,bm9pc2Uta2V5,aWRlbnRpdHkta2V5,YWR2LXNlY3JldA==');
    const published = await red.admin('e2e-test/comms-publish', { method: 'POST', body: { topic: `whatsapp-workspace/${WORKSPACE_ID}/link`, data: { qr: 'e2e', dataUrl } } });
    expect(published.status).toBe(200);
    await page.locator('#wa-qr').waitFor({ state: 'visible', timeout: 10_000 });
    await expect(page.locator('#wa-qr').getAttribute('src')).resolves.toBe(dataUrl);
    await expect(page.locator('#wa-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).resolves.toBe(true);
    await page.locator('#wa-qr').scrollIntoViewIfNeeded();
    await page.screenshot({ path: SCREENSHOT });

    // "Generate new URL": the field shows the new URL; the old one is refused over HTTP.
    await page.locator('#wa-rotate').click();
    await page.waitForFunction((old) => (document.querySelector('#wa-webhook-url') as HTMLInputElement).value !== old, `${red.url}/whatsapp/${tokenOf('editor')}`, { timeout: 10_000 });
    const rotated = await page.locator('#wa-webhook-url').inputValue();
    expect(rotated).toMatch(new RegExp(`^${red.url}/whatsapp/[A-Za-z0-9_-]{16,}$`));
    expect((await post(tokenOf('editor'), '{}')).status).toBe(404);
    expect((await fetch(rotated, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'new' }) })).status).toBe(200);

    // A paused account shows why, with the pause's end; reconnecting while paused, the pause follows the reason it is down.
    // No WhatsApp here pauses an account: the state's answer is given two, as the core reports them.
    const reason = 'WhatsApp restricted this account from starting new chats: it refused messages to 2 different contacts within an hour (error 463).';
    const reconnecting = 'The connection to WhatsApp was lost (408); reconnecting. Next attempt in 2 s.';
    await page.route(`**/whatsapp-workspace/${WORKSPACE_ID}/state`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { accounts: Record<string, unknown>[] };
      const until = '2026-11-20T15:00:00.000Z';
      body.accounts = [
        { ...body.accounts[0], state: 'paused', detail: reason, pauseReason: reason, pausedUntil: until },
        { ...body.accounts[0], phone: '15105566778', state: 'reconnecting', detail: reconnecting, pauseReason: reason, pausedUntil: until },
      ];
      await route.fulfill({ response, json: body });
    });
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#wa-live').waitFor({ state: 'detached', timeout: 10_000 });
    await page.evaluate((id) => (window as unknown as { RED: { editor: { editConfig(a: string, t: string, id: string): void } } }).RED.editor.editConfig('', 'whatsapp-workspace', id), WORKSPACE_ID);
    await page.waitForFunction(() => document.querySelectorAll('#wa-accounts li').length === 2, null, { timeout: 10_000 });
    await expect(page.locator('#wa-accounts li').allInnerTexts()).resolves.toEqual([
      `+15105566777 · dry-run · paused — ${reason} (until 2026-11-20 15:00:00 UTC)`,
      `+15105566778 · dry-run · reconnecting — ${reconnecting} — Paused: ${reason} (until 2026-11-20 15:00:00 UTC)`,
    ]);
    await page.unroute(`**/whatsapp-workspace/${WORKSPACE_ID}/state`);
    expect(pageErrors).toEqual([]);
  }
  /** Opens a workspace's dialog the way the pencil next to a node's workspace field does. */
  async function openWorkspaceDialog(id: string): Promise<void> {
    await page.evaluate((nodeId) => (window as unknown as { RED: { editor: { editConfig(a: string, t: string, id: string): void } } }).RED.editor.editConfig('', 'whatsapp-workspace', nodeId), id);
    await page.locator('#node-config-dialog-edit-form').waitFor({ state: 'visible', timeout: 10_000 });
  }

  async function checkCloudApi(): Promise<void> {
    const pageErrors: string[] = [];
    const onError = (error: Error) => pageErrors.push(String(error));
    page.on('pageerror', onError);
    // A fresh editor: whatever the other test left open is gone.
    await page.goto(red.url, { timeout: 20_000 });
    await page.waitForFunction((id) => !!(window as unknown as { RED?: { nodes?: { node?(id: string): unknown } } }).RED?.nodes?.node?.(id), CLOUD_WORKSPACE_ID, { timeout: 20_000 });
    await openWorkspaceDialog(CLOUD_WORKSPACE_ID);
    // Deployed, without a Cloud API number yet: the live part shows, Meta's callback URL does not.
    await page.locator('#wa-live').waitFor({ state: 'visible', timeout: 10_000 });
    await expect(page.locator('#wa-accounts li').allInnerTexts()).resolves.toEqual(['No account yet: link a phone or add a dry-run phone above.']);
    await expect(page.locator('#wa-cloud-api-url-row').isVisible()).resolves.toBe(false);

    // (1) The Cloud API section: its heading, its tip, four labelled fields, the three secrets as password inputs.
    const form = page.locator('#node-config-dialog-edit-form');
    await expect(form.locator('h4', { hasText: 'WhatsApp Cloud API number (optional)' }).count()).resolves.toBe(1);
    await expect(form.locator('.form-tips', { hasText: 'phone number ID' }).innerText()).resolves.toContain('set the callback URL shown below once deployed');
    const fields = [
      ['cloudApiPhoneNumberId', 'Phone number ID', 'text', TYPED.phoneNumberId],
      ['cloudApiAccessToken', 'Access token', 'password', TYPED.accessToken],
      ['cloudApiAppSecret', 'App secret', 'password', TYPED.appSecret],
      ['cloudApiVerifyToken', 'Verify token', 'password', TYPED.verifyToken],
    ] as const;
    for (const [name, label, type] of fields) {
      expect((await form.locator(`label[for="node-config-input-${name}"]`).innerText()).trim()).toBe(label);
      const input = form.locator(`#node-config-input-${name}`);
      await expect(input.getAttribute('type')).resolves.toBe(type);
      await expect(input.inputValue()).resolves.toBe('');
      await expect(input.isVisible()).resolves.toBe(true);
    }
    await expect(form.locator('#node-config-input-cloudApiPhoneNumberId').getAttribute('placeholder')).resolves.toBe('digits, from WhatsApp > API Setup');

    // (2) Typed in, saved with the dialog's Update button, deployed with the Deploy button.
    for (const [name, , , value] of fields) {
      const input = form.locator(`#node-config-input-${name}`);
      await input.scrollIntoViewIfNeeded();
      await input.click();
      await input.pressSequentially(value);
      await expect(input.inputValue()).resolves.toBe(value);
    }
    await page.locator('#node-config-dialog-ok').click();
    await form.waitFor({ state: 'detached', timeout: 10_000 });
    const deploy = page.locator('#red-ui-header-button-deploy');
    await page.waitForFunction(() => !document.querySelector('#red-ui-header-button-deploy')!.classList.contains('disabled'), null, { timeout: 10_000 });
    await deploy.click();
    await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForFunction(() => (window as unknown as { RED: { nodes: { dirty(): boolean } } }).RED.nodes.dirty() === false, null, { timeout: 10_000 });

    // The number opens against the fake Graph API with the typed number and token (it refuses any other token).
    type State = { accounts: { kind: string; phone: string | null; state: string }[] };
    let lastAnswer = '';
    await waitFor(
      'the Cloud API account to open',
      async () => {
        const response = await red.admin(`whatsapp-workspace/${CLOUD_WORKSPACE_ID}/state`);
        lastAnswer = `${response.status} ${await response.text()}`;
        if (!response.ok) return false;
        const state = JSON.parse(lastAnswer.slice(4)) as State;
        return state.accounts.some((account) => account.kind === 'cloud-api' && account.state === 'open');
      },
      60_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; the state route last answered ${lastAnswer.slice(0, 2000)}`);
    });
    expect(graph.requests.some((request) => request.method === 'GET' && request.path === `/v21.0/${TYPED.phoneNumberId}` && request.authorization === `Bearer ${TYPED.accessToken}`)).toBe(true);

    // (3) Reopened: Meta's callback URL and the Cloud API account; the secrets come back only as "set".
    await openWorkspaceDialog(CLOUD_WORKSPACE_ID);
    await page.locator('#wa-cloud-api-url-row').waitFor({ state: 'visible', timeout: 10_000 });
    await expect(page.locator('label[for="wa-cloud-api-url"]').innerText()).resolves.toBe('Cloud API callback URL (for Meta):');
    const callbackUrl = await page.locator('#wa-cloud-api-url').inputValue();
    expect(callbackUrl).toBe(`${red.url}/whatsapp/cloud-api`);
    await expect(page.locator('#wa-cloud-api-url').getAttribute('readonly')).resolves.not.toBeNull();
    await expect(page.locator('#wa-accounts li').allInnerTexts()).resolves.toEqual(['+15550100000 · cloud-api · open']);
    await expect(form.locator('#node-config-input-cloudApiPhoneNumberId').inputValue()).resolves.toBe(TYPED.phoneNumberId);
    for (const name of ['cloudApiAccessToken', 'cloudApiAppSecret', 'cloudApiVerifyToken']) {
      await expect(form.locator(`#node-config-input-${name}`).inputValue()).resolves.toBe('__PWRD__');
    }
    await page.locator('#wa-cloud-api-url-row').scrollIntoViewIfNeeded();
    await page.screenshot({ path: CLOUD_SCREENSHOT });
    await page.locator('#node-config-dialog-cancel').click();
    await form.waitFor({ state: 'detached', timeout: 10_000 });

    // (4) The flow file has the number ID and none of the secrets; Node-RED's credentials file has them
    // (NodeRed.start sets credentialSecret: false, so flows_cred.json is plain JSON).
    const flowsText = readFileSync(join(userDir, 'flows.json'), 'utf8');
    const saved = (JSON.parse(flowsText) as { id: string; cloudApiPhoneNumberId?: string }[]).find((node) => node.id === CLOUD_WORKSPACE_ID);
    expect(saved?.cloudApiPhoneNumberId).toBe(TYPED.phoneNumberId);
    for (const secret of [TYPED.accessToken, TYPED.appSecret, TYPED.verifyToken]) expect(flowsText).not.toContain(secret);
    const credentials = JSON.parse(readFileSync(join(userDir, 'flows_cred.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(credentials[CLOUD_WORKSPACE_ID]).toEqual({
      cloudApiAccessToken: TYPED.accessToken,
      cloudApiAppSecret: TYPED.appSecret,
      cloudApiVerifyToken: TYPED.verifyToken,
    });

    // Meta's verification request at the shown URL: the typed verify token gets the challenge back, another does not.
    const verify = (token: string) => fetch(`${callbackUrl}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=42`);
    const verified = await verify(TYPED.verifyToken);
    expect(verified.status).toBe(200);
    await expect(verified.text()).resolves.toBe('42');
    const refused = await verify('not-the-typed-token');
    expect(refused.status).toBe(403);
    await refused.arrayBuffer();
    page.off('pageerror', onError);
    expect(pageErrors).toEqual([]);
  }
});
