/**
 * A new user's first minutes in a REAL n8n 2.40.7, in headless Chromium (Debian's chromium through
 * playwright-core). Driven in n8n's editor, the way a user clicks through it: signing in; a new workflow
 * with the WhatsApp Inbound Webhook Trigger taken from the node panel; a new "WhatsApp Workspace"
 * credential created from the node's credential dropdown (workspace name, a dry-run phone) and saved;
 * the workflow saved and published with the editor's Publish button; a second workflow with a Manual
 * Trigger and the WhatsApp node's Get Webhook URL, executed from the node's "Execute step", its URL read
 * from the output panel. The test then POSTs the seed's Example 1 to that URL (200) and opens the link page.
 * Set up through n8n's CLI and REST API: the owner account (POST /rest/owner/setup) and the Link Account
 * steps (small Webhook → WhatsApp workflows over an imported credential naming the same workspace store).
 * No WhatsApp is reachable: the linking socket goes to a local server that never answers, and the QR
 * WhatsApp would send is published into the real link session by a test-only node
 * (support/n8n-hook/E2eLinkQr.node.js). Screenshots of a failure go to a temp folder, named in the error.
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, selectors, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { LINK_PAGE_SENTENCES } from '../../shared/linking/link-pages';
import { harness, startImported, type N8nInstance } from '../n8n/e2e-harness';
import { SEED_EXAMPLE_1 } from '../support/seed-examples';
import { tempDir } from '../support/temp';
import { silentServer, type SilentServer } from './support/silent-server';

const CHROMIUM = process.env.WAHOOK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OWNER = { email: 'owner@wahook.test', firstName: 'Wa', lastName: 'Hook', password: 'Wahook-e2e-Passw0rd' };
const WORKSPACE = 'browser';
const DRY_RUN_PHONE = '+15105566777';
/** The credential the user creates in the editor. */
const UI_CREDENTIAL_NAME = 'WhatsApp Workspace (browser)';
const TRIGGER_WORKFLOW_NAME = 'CRM to WhatsApp';
const URL_WORKFLOW_NAME = 'Get the webhook URL';
/** The Link Account steps' credential, imported: the same store (workspace name, n8n's folder) as the editor's. */
const STEP_CREDENTIAL = {
  id: 'wahookLinkCred01',
  name: 'WhatsApp Workspace (link steps)',
  type: 'whatsAppWorkspaceApi',
  data: { workspaceName: WORKSPACE, dataFolder: '', quotaAllowance: 1000, quotaPeriod: 'daily', refundDelayMinutes: 0, gapMinSeconds: 1.5, gapMaxSeconds: 2.5, capPerHour: 0, capPerDay: 0, allowPrivateFileUrls: false, dryRunPhones: DRY_RUN_PHONE, initialToken: '' },
};
const uses = { whatsAppWorkspaceApi: { id: STEP_CREDENTIAL.id, name: STEP_CREDENTIAL.name } };

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

const STEP_WORKFLOWS = [
  stepWorkflow('wahookBrowserLnk', 'link', { type: 'CUSTOM.whatsApp', parameters: { operation: 'link', linkMethod: 'qr', linkTimeoutSeconds: '={{ $json.body.seconds }}' } }),
  stepWorkflow('wahookBrowserQr1', 'publish-qr', { type: 'CUSTOM.e2eLinkQr', parameters: { qr: '={{ $json.body.qr }}' } }),
];

jest.setTimeout(360_000);

const dir = tempDir('wahook-n8n-browser-');
const screenshots = mkdtempSync(join(tmpdir(), 'wahook-n8n-screens-'));
let n8n: N8nInstance;
let silent: SilentServer;
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
  // Detached: stop() ends n8n's whole process group (its task runner too) by n8n's PID.
  ({ n8n } = await startImported(
    dir.path,
    [STEP_CREDENTIAL],
    STEP_WORKFLOWS,
    { N8N_CUSTOM_EXTENSIONS: extensions, WAHOOK_WA_WEBSOCKET_URL: `ws://127.0.0.1:${silent.port}/ws/chat` },
    { detached: true },
  ));
  const setup = await fetch(`${n8n.url}/rest/owner/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER) });
  if (setup.status !== 200) throw new Error(`n8n refused the owner setup (${setup.status}): ${await setup.text()}`);
  // n8n's editor marks its parts with data-test-id.
  selectors.setTestIdAttribute('data-test-id');
  context = await chromium.launchPersistentContext(join(dir.path, 'chromium-profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  page.setDefaultNavigationTimeout(30_000);
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

/** n8n's REST API as the signed-in editor calls it (its session cookie and its browser-id header). */
async function rest(path: string): Promise<{ data: Record<string, unknown> }> {
  const answer = await page.evaluate(async (url) => {
    const response = await fetch(url, { headers: { 'browser-id': localStorage.getItem('n8n-browserId') ?? '' } });
    return { status: response.status, text: await response.text() };
  }, path);
  if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${answer.text}`);
  return JSON.parse(answer.text) as { data: Record<string, unknown> };
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

/** A new workflow in the editor, opened on its empty canvas. */
async function newWorkflow(): Promise<void> {
  await page.goto(`${n8n.url}/workflow/new`);
  await page.getByTestId('canvas-plus-button').waitFor({ state: 'visible', timeout: 30_000 });
}

/** In the open node panel: searches `search`, then clicks the node `node` and, if given, its action `action`. */
async function pickFromNodePanel(search: string, node: RegExp, action?: RegExp): Promise<void> {
  const searchBar = page.getByTestId('node-creator-search-bar');
  await searchBar.waitFor({ state: 'visible' });
  await searchBar.fill(search);
  await page.getByTestId('node-creator-item-name').filter({ hasText: node }).first().click();
  if (action) await page.getByTestId('node-creator-item-name').filter({ hasText: action }).first().click();
}

/** Renames the open workflow (its name in the editor's header) and saves it with Ctrl+S. */
async function nameAndSave(name: string): Promise<string> {
  const title = page.getByTestId('workflow-name-input');
  await title.click();
  await title.getByTestId('inline-edit-input').fill(name);
  await title.getByTestId('inline-edit-input').press('Enter');
  await page.keyboard.press('Control+s');
  // A new workflow gets its id (in the address) when first saved; then the server has it under the name.
  await page.waitForURL(/\/workflow\/[A-Za-z0-9]{8,}/, { timeout: 20_000 });
  const id = /\/workflow\/([A-Za-z0-9]{8,})/.exec(page.url())![1];
  await waitUntil(`workflow ${id} saved as "${name}"`, async () => (await rest(`/rest/workflows/${id}`)).data.name === name);
  return id;
}

/** Polls `condition` every 300 ms for at most `ms`. */
async function waitUntil(what: string, condition: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > until) throw new Error(`Timed out after ${ms} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** The node details view's credential slot shows `name` (picked from its dropdown if another is). */
async function chooseCredential(ndv: Locator, name: string): Promise<void> {
  const select = ndv.getByTestId('node-credentials-select');
  if ((await select.locator('input').inputValue().catch(() => '')) === name) return;
  await select.click();
  await page.locator('[data-test-id^="node-credentials-select-item-"]').filter({ hasText: name }).first().click();
  await expect(select.locator('input').inputValue()).resolves.toBe(name);
}

it('in the editor: creates the credential and the trigger, publishes, runs Get Webhook URL; the URL takes Example 1; the link page lives', async () => {
  await withScreenshot('sign-in', async () => {
    await page.goto(`${n8n.url}/signin`);
    await page.locator('input[name="emailOrLdapLoginId"], input[type="email"]').first().fill(OWNER.email);
    await page.locator('input[type="password"]').first().fill(OWNER.password);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 30_000 });
  });

  const ndv = page.getByTestId('ndv');
  await withScreenshot('add-trigger', async () => {
    await newWorkflow();
    await page.getByTestId('canvas-plus-button').click();
    // n8n files the trigger under its action node's name: "WhatsApp (Own Phone)" → its one trigger.
    await pickFromNodePanel('WhatsApp', /^WhatsApp \(Own Phone\)$/, /^On new WhatsApp Inbound Webhook event$/);
    await ndv.waitFor({ state: 'visible' });
    await expect(ndv.getByTestId('node-title-container').innerText()).resolves.toBe('WhatsApp Inbound Webhook Trigger');
  });

  await withScreenshot('create-credential', async () => {
    // n8n preselects an existing credential of the type (the link steps'): "Create new credential" from the dropdown.
    const empty = ndv.getByTestId('node-credentials-empty-state');
    if (await empty.isVisible()) {
      await empty.click();
    } else {
      await ndv.getByTestId('node-credentials-select').click();
      await page.getByTestId('node-credentials-select-item-new').click();
    }
    const modal = page.getByTestId('editCredential-modal');
    await modal.waitFor({ state: 'visible' });
    await modal.getByTestId('credential-name').click();
    await modal.getByTestId('inline-edit-input').fill(UI_CREDENTIAL_NAME);
    await modal.getByTestId('inline-edit-input').press('Enter');
    await modal.getByTestId('parameter-input-workspaceName').locator('input').fill(WORKSPACE);
    await modal.getByTestId('parameter-input-dryRunPhones').locator('input').fill(DRY_RUN_PHONE);
    await modal.getByTestId('credential-save-button').click();
    await modal.waitFor({ state: 'hidden', timeout: 30_000 });
    // n8n puts the new credential in the slot once its save answers, which on a loaded machine comes after the modal closes.
    const slot = ndv.getByTestId('node-credentials-select').locator('input');
    await waitUntil('the new credential in the node', async () => (await slot.inputValue()) === UI_CREDENTIAL_NAME, 10_000).catch(() => undefined);
    await expect(slot.inputValue()).resolves.toBe(UI_CREDENTIAL_NAME);
  });

  let triggerWorkflowId = '';
  await withScreenshot('publish', async () => {
    await ndv.getByTestId('ndv-close-button').click();
    await ndv.waitFor({ state: 'hidden' });
    triggerWorkflowId = await nameAndSave(TRIGGER_WORKFLOW_NAME);
    await page.getByTestId('workflow-open-publish-modal-button').click();
    const modal = page.getByTestId('workflowPublish-modal');
    await modal.waitFor({ state: 'visible' });
    await modal.getByTestId('workflow-publish-button').click();
    await modal.waitFor({ state: 'hidden', timeout: 30_000 });
    await page.getByRole('button', { name: 'Got it' }).click();
    // The button reads "Publishing…" while n8n activates the workflow (seconds on a loaded machine).
    const publishButton = page.getByTestId('workflow-open-publish-modal-button');
    await waitUntil('the editor to say Published', async () => /Published/.test(await publishButton.innerText()), 30_000);
    await expect(publishButton.innerText()).resolves.toMatch(/Published/);
    await waitUntil('the workflow to be active', async () => (await rest(`/rest/workflows/${triggerWorkflowId}`)).data.active === true);
  });

  let url = '';
  await withScreenshot('get-webhook-url', async () => {
    await newWorkflow();
    await page.getByTestId('canvas-plus-button').click();
    await pickFromNodePanel('manual', /^Manual Trigger$/);
    await page.getByTestId('canvas-node').first().waitFor({ state: 'visible' });
    // The trigger's "+" (its output handle) opens the panel for the next node.
    await page.getByTestId('canvas-handle-plus').first().click();
    await pickFromNodePanel('WhatsApp', /^WhatsApp \(Own Phone\)$/, /^Get the webhook URL$/);
    await ndv.waitFor({ state: 'visible' });
    await expect(ndv.getByTestId('parameter-input-operation').locator('input').inputValue()).resolves.toBe('Get Webhook URL');
    await chooseCredential(ndv, UI_CREDENTIAL_NAME);
    await ndv.getByTestId('node-execute-button').click();
    const output = ndv.getByTestId('output-panel');
    await output.getByTestId('node-run-status-success').waitFor({ state: 'visible', timeout: 30_000 });
    await output.getByTestId('radio-button-table').click();
    const shown = await output.getByTestId('ndv-data-container').innerText();
    const found = /https?:\/\/\S+\/webhook\/\S+/.exec(shown);
    if (!found) throw new Error(`The output panel shows no webhook URL:\n${shown}`);
    url = found[0];
    expect(shown).toContain(`${TRIGGER_WORKFLOW_NAME} / WhatsApp Inbound Webhook Trigger`);
    expect(shown).toContain(triggerWorkflowId);
    await ndv.getByTestId('ndv-close-button').click();
    await ndv.waitFor({ state: 'hidden' });
    await nameAndSave(URL_WORKFLOW_NAME);
  });

  let webhookId = '';
  await withScreenshot('example-1', async () => {
    const shape = new RegExp(`^${n8n.url}/webhook/([0-9a-f-]{36})/whatsapp/[A-Za-z0-9_-]{16,}$`);
    expect(url).toMatch(shape);
    webhookId = shape.exec(url)![1];
    const posted = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SEED_EXAMPLE_1 });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toEqual({ status: 'success', data: { message_id: expect.stringMatching(/^wa_backend:3EB0[0-9A-F]{18}$/) } });
  });

  await withScreenshot('link-page', async () => {
    // One linking session (WhatsApp allows one at a time), short enough to watch it expire.
    const linked = await linkAccount(20, '2@e2e-first,bm9pc2Uta2V5,aWRlbnRpdHkta2V5,YWR2LXNlY3JldA==');
    expect(linked).toMatchObject({ status: 'waiting_for_phone', qr: '2@e2e-first,bm9pc2Uta2V5,aWRlbnRpdHkta2V5,YWR2LXNlY3JldA==' });
    const linkUrl = String(linked.link_url);
    // Served by the trigger the editor published.
    expect(linkUrl).toMatch(new RegExp(`/webhook/${webhookId}/whatsapp/link/[A-Za-z0-9_-]{43}$`));
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

