import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../shared/store/sqlite';
import { MIGRATIONS } from '../../shared/store/sqlite/schema';
import type { WorkspaceStore } from '../../shared/store/types';
import { dedicatedUrlTemplate, fillToken, type PublishedWebhook } from '../../shared/webhook/urls';
import { STORE_KINDS, type StorePlace } from '../support/store-kinds';
import { tempDir } from '../support/temp';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';

const entry = (nodeId: string, urlTemplate = `https://n8n.example.com/webhook/${nodeId}/whatsapp/:token`): PublishedWebhook => ({
  flowId: 'wf-1',
  nodeId,
  label: `Workflow / ${nodeId}`,
  urlTemplate,
  dedicatedUrlTemplate: null,
  linkUrlTemplate: `https://n8n.example.com/webhook/${nodeId}/whatsapp/link/:linkToken`,
});

describe.each(STORE_KINDS)('the webhook URL records in the $name store', (kind) => {
  let place: StorePlace;
  let store: WorkspaceStore;
  beforeEach(() => {
    place = kind.place();
    store = place.open();
  });
  afterEach(() => place.cleanup());

  it('records an entry point, replaces its record on a second publish, and lists oldest first', async () => {
    await store.webhookUrls.publish(entry('a'), 10);
    await store.webhookUrls.publish(entry('b'), 20);
    await store.webhookUrls.publish({ ...entry('a'), urlTemplate: 'https://other.example/webhook/a/x/:token' }, 30);
    expect(await store.webhookUrls.list()).toEqual([
      { ...entry('b'), publishedAt: 20 },
      { ...entry('a'), urlTemplate: 'https://other.example/webhook/a/x/:token', publishedAt: 30 },
    ]);
  });

  it('withdraws a record only while it holds the URL that is withdrawn (a test URL leaves the production one)', async () => {
    await store.webhookUrls.publish(entry('a'), 10);
    await store.webhookUrls.withdraw('wf-1', 'a', 'https://n8n.example.com/webhook-test/a/whatsapp/:token');
    expect(await store.webhookUrls.list()).toHaveLength(1);
    await store.webhookUrls.withdraw('wf-1', 'a', entry('a').urlTemplate);
    expect(await store.webhookUrls.list()).toEqual([]);
    // Withdrawing what is not recorded is no error.
    await store.webhookUrls.withdraw('wf-1', 'a', entry('a').urlTemplate);
  });
});

describe('the webhook URL records of an older SQLite file', () => {
  const dir = tempDir('wahook-urls-');
  afterAll(() => dir.cleanup());

  it('upgrades a store made before the table existed', async () => {
    const path = join(dir.path, 'old.sqlite');
    const db = new DatabaseSync(path);
    // The file as it was before the migration that made the table (later migrations came after it).
    const before = MIGRATIONS.findIndex((migration) => migration.includes('CREATE TABLE webhook_urls'));
    expect(before).toBeGreaterThan(0);
    for (const migration of MIGRATIONS.slice(0, before)) db.exec(migration);
    db.exec(`PRAGMA user_version = ${before}`);
    db.close();
    const upgraded = new SqliteStore({ path });
    await upgraded.webhookUrls.publish(entry('a'), 1);
    expect(await upgraded.webhookUrls.list()).toHaveLength(1);
    await upgraded.close();
  });
});

describe('Workspace.webhookUrls', () => {
  let t: TestWorkspace;
  beforeEach(async () => {
    t = await openTestWorkspace({ initialToken: 'first-token-0123456789' });
  });
  afterEach(async () => {
    await t.close();
    expect(t.errors).toEqual([]);
  });

  it("fills in the current token, so a rotation shows in the next read; the store keeps only templates", async () => {
    await t.workspace.publishWebhookUrl({ ...entry('a'), dedicatedUrlTemplate: 'http://n8n.example.com:5700/whatsapp/:token' });
    expect(await t.workspace.webhookUrls()).toEqual([
      {
        flowId: 'wf-1',
        nodeId: 'a',
        label: 'Workflow / a',
        url: 'https://n8n.example.com/webhook/a/whatsapp/first-token-0123456789',
        dedicatedUrl: 'http://n8n.example.com:5700/whatsapp/first-token-0123456789',
        publishedAt: expect.any(Number),
      },
    ]);
    const { token } = await t.workspace.rotateWebhookToken();
    const [after] = await t.workspace.webhookUrls();
    expect(after!.url).toBe(`https://n8n.example.com/webhook/a/whatsapp/${token}`);
    expect(after!.dedicatedUrl).toBe(`http://n8n.example.com:5700/whatsapp/${token}`);
    expect(JSON.stringify(await t.workspace.store.webhookUrls.list())).not.toContain(token);
  });

  it('lists link-page templates newest first, and nothing once withdrawn', async () => {
    await t.workspace.publishWebhookUrl(entry('a'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await t.workspace.publishWebhookUrl({ ...entry('b'), linkUrlTemplate: null });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await t.workspace.publishWebhookUrl(entry('c'));
    expect(await t.workspace.linkUrlTemplates()).toEqual([entry('c').linkUrlTemplate, entry('a').linkUrlTemplate]);
    for (const id of ['a', 'b', 'c']) await t.workspace.withdrawWebhookUrl('wf-1', id, entry(id).urlTemplate);
    expect(await t.workspace.webhookUrls()).toEqual([]);
    expect(await t.workspace.linkUrlTemplates()).toEqual([]);
  });
});

describe('URL templates', () => {
  it('fillToken replaces every :token', () => {
    expect(fillToken('https://h/webhook/id/whatsapp/:token', 'abc_DEF-123')).toBe('https://h/webhook/id/whatsapp/abc_DEF-123');
  });

  it("the Dedicated Port's URL uses the listen address it names, else the public URL's host", () => {
    expect(dedicatedUrlTemplate('https://n8n.example.com/webhook/x/:token', undefined, 5700)).toBe('http://n8n.example.com:5700/whatsapp/:token');
    expect(dedicatedUrlTemplate('https://n8n.example.com/webhook/x/:token', '0.0.0.0', 5700)).toBe('http://n8n.example.com:5700/whatsapp/:token');
    expect(dedicatedUrlTemplate('https://n8n.example.com/webhook/x/:token', '10.0.0.5', 5700)).toBe('http://10.0.0.5:5700/whatsapp/:token');
    expect(dedicatedUrlTemplate('https://n8n.example.com/webhook/x/:token', '::1', 5700)).toBe('http://[::1]:5700/whatsapp/:token');
  });
});
