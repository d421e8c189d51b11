import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SqliteStore } from '../../shared/store/sqlite';
import { Crabline } from '../baileys/support/crabline';
import { primeLinkedAuth } from '../baileys/support/harness';
import { NodeRed, waitFor } from '../e2e/support/node-red';
import { nodeIdOf, tab, webhook, workspace } from '../e2e/support/flows';

// The sidebar's Unlink on a real Baileys account: a real Node-RED whose workspace holds a linked device,
// connected to crabline (a local fake WhatsApp Web server), as test/e2e/node-red-crabline.e2e.test.ts
// sets it up. The tab shows the account open; Unlink (confirmed) removes it from the tab and the workspace.

const CHROMIUM = process.env.WAHOOK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SELF = '15550000001:0@s.whatsapp.net';
const ACCOUNT = { id: 'wa-15550000001', kind: 'baileys' as const, phone: '15550000001', name: null, createdAt: 1, connectedAt: null, active: true };

describe('the WhatsApp sidebar’s Unlink in headless Chromium', () => {
  let userDir: string;
  let crabline: Crabline;
  let red: NodeRed;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium".`);
    userDir = mkdtempSync(join(tmpdir(), 'wahook-sidebar-unlink-'));
    crabline = await Crabline.start(join(userDir, 'crabline.jsonl'), SELF);
    const store = new SqliteStore({ path: join(userDir, 'whatsapp', 'linked.sqlite') });
    await store.accounts.put(ACCOUNT);
    await primeLinkedAuth(store, ACCOUNT.id, { id: SELF, name: 'Crab Phone' });
    await store.close();
    red = await NodeRed.start(userDir, {
      env: { WAHOOK_WA_WEBSOCKET_URL: crabline.webSocketUrl },
      settings: { telemetry: { enabled: false }, editorTheme: { tours: false } },
    });
    await red.deploy([tab(), workspace('linked', { dryRunPhones: '' }), webhook('linked')]);
    context = await chromium.launchPersistentContext(join(userDir, 'chromium-profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    const code = await red?.stop();
    await crabline?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    if (red) expect(code).toBe(0);
  }, 30_000);

  it('shows the linked account open, and Unlink removes it', async () => {
    try {
      await page.goto(red.url, { timeout: 20_000 });
      await page.waitForFunction((id) => !!(window as unknown as { RED?: { nodes?: { node?(id: string): unknown } } }).RED?.nodes?.node?.(id), nodeIdOf('linked'), { timeout: 20_000 });
      await page.locator('button[data-tab-id="whatsapp"]').click();
      const account = page.locator(`.wa-ws[data-id="${nodeIdOf('linked')}"] .wa-account[data-account="${ACCOUNT.id}"]`);
      await waitFor('the account to connect to crabline', async () => (await account.locator('.wa-account-summary').innerText().catch(() => '')) === '+15550000001 · baileys · open · 0 queued', 20_000);

      page.once('dialog', (dialog) => void dialog.accept());
      await account.locator('.wa-unlink').click();
      await account.waitFor({ state: 'detached', timeout: 15_000 });
      await expect(page.locator(`.wa-ws[data-id="${nodeIdOf('linked')}"] .wa-no-account`).innerText()).resolves.toBe("No account yet: link a phone, or add a dry-run phone in the workspace's settings.");
      const state = (await (await red.admin(`whatsapp-workspace/${nodeIdOf('linked')}/state`)).json()) as { accounts: unknown[] };
      expect(state.accounts).toEqual([]);
    } catch (error) {
      const file = join(mkdtempSync(join(tmpdir(), 'wahook-sidebar-failure-')), 'unlink.png');
      await page?.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      throw new Error(`${String(error instanceof Error ? error.stack : error)}\nscreenshot: ${file}\nNode-RED said:\n${red?.log()}`);
    }
  }, 60_000);
});
