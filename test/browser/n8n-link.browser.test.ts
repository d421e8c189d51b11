/**
 * A new user's first minutes in a REAL n8n 2.40.7, in headless Chromium (Debian's chromium through
 * playwright-core). Driven in the browser: signing in, the workflow with the credential and the trigger
 * in n8n's editor, the link page. Set up through n8n's CLI and REST API (not the editor's forms, which
 * change between n8n releases): the owner account (POST /rest/owner/setup), the dry-run credential, the
 * trigger workflow and its activation (import:credentials, import:workflow, publish:workflow), and the
 * WhatsApp node's Get Webhook URL and Link Account steps (run by small Webhook → WhatsApp workflows).
 * No WhatsApp is reachable: the linking socket goes to a local server that never answers, and the QR
 * WhatsApp would send is published into the real link session by a test-only node
 * (support/n8n-hook/E2eLinkQr.node.js). Screenshots of a failure go to a temp folder, named in the error.
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { LINK_PAGE_SENTENCES } from '../../shared/link-pages';
import { harness, startImported, type N8nInstance } from '../n8n/e2e-harness';
import { SEED_EXAMPLE_1 } from '../support/seed-examples';
import { tempDir } from '../support/temp';

const CHROMIUM = process.env.WAHOOK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OWNER = { email: 'owner@wahook.test', firstName: 'Wa', lastName: 'Hook', password: 'Wahook-e2e-Passw0rd' };
const TRIGGER_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000e5';
const CREDENTIAL = {
  id: 'wahookLinkCred01',
  name: 'WhatsApp Workspace (browser)',
  type: 'whatsAppWorkspaceApi',
  data: { workspaceName: 'browser', dataFolder: '', quotaAllowance: 1000, quotaPeriod: 'daily', refundDelayMinutes: 0, gapMinSeconds: 0, gapMaxSeconds: 0.05, capPerHour: 0, capPerDay: 0, allowPrivateFileUrls: false, dryRunPhones: '+15105566777', initialToken: '' },
};
const uses = { whatsAppWorkspaceApi: { id: CREDENTIAL.id, name: CREDENTIAL.name } };

/** Webhook (POST /webhook/<path>) → `node`, answering with the node's first item. */
function stepWorkflow(id: string, path: string, node: Record<string, unknown>) {
  return {
    id,
    name: `Step: ${path}`,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [
      { id: `${id}-hook`, name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: `${id}-hook-id`, parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', options: {} } },
      { id: `${id}-step`, name: 'Step', position: [220, 0], typeVersion: 1, credentials: uses, ...node },
    ],
    connections: { Webhook: { main: [[{ node: 'Step', type: 'main', index: 0 }]] } },
  };
}

const WORKFLOWS = [
  {
    id: 'wahookBrowserWf1',
    name: 'CRM to WhatsApp',
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [{ id: 'wahook-browser-trigger', name: 'WhatsApp Inbound Webhook Trigger', type: 'CUSTOM.whatsAppTrigger', typeVersion: 1, position: [0, 0], webhookId: TRIGGER_WEBHOOK_ID, parameters: { path: 'whatsapp', mode: 'queue', emission: 'none', emitStatus: false }, credentials: uses }],
    connections: {},
  },
  stepWorkflow('wahookBrowserUrl', 'get-url', { type: 'CUSTOM.whatsApp', parameters: { operation: 'getWebhookUrl' } }),
  stepWorkflow('wahookBrowserLnk', 'link', { type: 'CUSTOM.whatsApp', parameters: { operation: 'link', linkMethod: 'qr', linkTimeoutSeconds: '={{ $json.body.seconds }}' } }),
  stepWorkflow('wahookBrowserQr1', 'publish-qr', { type: 'CUSTOM.e2eLinkQr', parameters: { qr: '={{ $json.body.qr }}' } }),
];

jest.setTimeout(300_000);

const dir = tempDir('wahook-n8n-browser-');
const screenshots = mkdtempSync(join(tmpdir(), 'wahook-n8n-screens-'));
let n8n: N8nInstance;
let silent: { server: Server; sockets: Set<Socket>; port: number };
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium".`);
  silent = await silentServer();
  // n8n keeps one loader per package name and every custom folder is "CUSTOM": the last folder would
  // replace the package. One folder with links to both loads both (Node resolves the links, so the hook
  // shares the package's modules).
  const extensions = join(dir.path, 'extensions');
  mkdirSync(extensions);
  symlinkSync(join(harness.ROOT, 'dist'), join(extensions, 'wahook'));
  symlinkSync(join(__dirname, 'support', 'n8n-hook'), join(extensions, 'e2e-hook'));
  ({ n8n } = await startImported(dir.path, [CREDENTIAL], WORKFLOWS, {
    N8N_CUSTOM_EXTENSIONS: extensions,
    WAHOOK_WA_WEBSOCKET_URL: `ws://127.0.0.1:${silent.port}/ws/chat`,
  }));
  const setup = await fetch(`${n8n.url}/rest/owner/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER) });
  if (setup.status !== 200) throw new Error(`n8n refused the owner setup (${setup.status}): ${await setup.text()}`);
  context = await chromium.launchPersistentContext(join(dir.path, 'chromium-profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
}, 240_000);

afterAll(async () => {
  await context?.close();
  await n8n?.stop();
  for (const socket of silent?.sockets ?? []) socket.destroy();
  await new Promise((resolve) => (silent ? silent.server.close(resolve) : resolve(undefined)));
  dir.cleanup();
}, 60_000);

/** Runs `check`; on failure saves a screenshot in the temp folder and names it in the error. */
async function withScreenshot(name: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    const path = join(screenshots, `${name}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => undefined);
    throw new Error(`${(error as Error).message}\nScreenshot: ${path}\nn8n said:\n${n8n.output().slice(-4000)}`);
  }
}

async function step(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${n8n.url}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`Step ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Link Account, with "WhatsApp"'s first QR published into its session while the step waits for it. */
async function linkAccount(seconds: number, qr: string): Promise<Record<string, unknown>> {
  const linking = step('link', { seconds });
  const until = Date.now() + 20_000;
  while (!((await step('publish-qr', { qr })).published as boolean)) {
    if (Date.now() > until) throw new Error('No link session opened within 20 s.');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return linking;
}

it('signs in, shows the trigger in the editor, gives a working URL and a live link page', async () => {
  await withScreenshot('sign-in', async () => {
    await page.goto(`${n8n.url}/signin`);
    await page.locator('input[name="emailOrLdapLoginId"], input[type="email"]').first().fill(OWNER.email);
    await page.locator('input[type="password"]').first().fill(OWNER.password);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 30_000 });
  });

  await withScreenshot('editor', async () => {
    await page.goto(`${n8n.url}/workflow/wahookBrowserWf1`);
    await page.getByText('WhatsApp Inbound Webhook Trigger').first().waitFor({ state: 'visible', timeout: 30_000 });
  });

  let url = '';
  await withScreenshot('webhook-url', async () => {
    const answer = await step('get-url');
    url = String(answer.url);
    expect(answer).toMatchObject({ url: expect.stringMatching(new RegExp(`^${n8n.url.replace('127.0.0.1', 'localhost')}/webhook/${TRIGGER_WEBHOOK_ID}/whatsapp/[A-Za-z0-9_-]{16,}$`)), trigger: 'CRM to WhatsApp / WhatsApp Inbound Webhook Trigger' });
    const posted = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SEED_EXAMPLE_1 });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toEqual({ status: 'success', data: { message_id: expect.stringMatching(/^wa_backend:3EB0[0-9A-F]{18}$/) } });
  });

  await withScreenshot('link-page', async () => {
    // One linking session (WhatsApp allows one at a time), short enough to watch it expire.
    const linked = await linkAccount(20, '2@e2e-first,bm9pc2Uta2V5,aWRlbnRpdHkta2V5,YWR2LXNlY3JldA==');
    expect(linked).toMatchObject({ status: 'waiting_for_phone', qr: '2@e2e-first,bm9pc2Uta2V5,aWRlbnRpdHkta2V5,YWR2LXNlY3JldA==' });
    const linkUrl = String(linked.link_url);
    expect(linkUrl).toMatch(new RegExp(`/webhook/${TRIGGER_WEBHOOK_ID}/whatsapp/link/[A-Za-z0-9_-]{43}$`));
    await page.goto(linkUrl);
    const qr = page.locator('#qr');
    await qr.waitFor({ state: 'visible' });
    const first = await qr.getAttribute('src');
    expect(first).toMatch(/^data:image\/png;base64,/);
    await expect(qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).resolves.toBe(true);
    await expect(page.locator('#status').innerText()).resolves.toBe('Scan this QR code with WhatsApp.');
    // WhatsApp rotates the QR: the open page follows.
    expect((await step('publish-qr', { qr: '2@e2e-second,bm9pc2Uta2V5,aWRlbnRpdHkta2V5,YWR2LXNlY3JldA==' })).published).toBe(true);
    await page.waitForFunction((old) => document.querySelector('#qr')?.getAttribute('src') !== old, first);
    // The link opens once: a second load says so.
    const again = await fetch(linkUrl);
    expect(again.status).toBe(404);
    expect(await again.text()).toContain(`<p id="message">${LINK_PAGE_SENTENCES.used.replace(/'/g, '&#39;')}</p>`);

    // The session's time is up: the open page says so, and so does the link.
    await page.waitForFunction((sentence) => document.querySelector('#status')?.textContent === sentence, LINK_PAGE_SENTENCES.expired, { timeout: 30_000 });
    await expect(qr.isVisible()).resolves.toBe(false);
    const expired = await page.goto(linkUrl);
    expect(expired?.status()).toBe(404);
    await expect(page.locator('#message').innerText()).resolves.toBe(LINK_PAGE_SENTENCES.expired);
  });
});

/** A TCP server that accepts connections and never answers (a WhatsApp that is not reachable). */
async function silentServer(): Promise<{ server: Server; sockets: Set<Socket>; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, sockets, port: (server.address() as { port: number }).port };
}
