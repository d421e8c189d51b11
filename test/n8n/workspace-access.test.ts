import { join } from 'node:path';
import { n8nDataFolder, QUEUE_MODE_REFUSAL, refuseQueueMode, releaseIdleWorkspaces, settingsFromCredential, withWorkspace } from '../../nodes/n8n/common/workspace-access';
import { LingeringLeases, WorkspaceRegistry, workspaceOptionsFor, workspaces } from '../../shared';
import { throwawaySchema } from '../support/postgres';
import { testCredential } from './helpers';

/** A credential naming the test server's PostgreSQL and one schema, as the credential dialog saves it. */
function pgCredential(schema: string) {
  return { storeKind: 'postgres', pgHost: '127.0.0.1', pgPort: 5432, pgDatabase: 'test', pgUser: 'postgres', pgPassword: '', pgSsl: 'off', pgSchema: schema };
}

describe('settingsFromCredential', () => {
  it("puts the store in n8n's own folder when no data folder is given", () => {
    const settings = settingsFromCredential({ workspaceName: 'Sales team', dataFolder: '' }, { N8N_USER_FOLDER: '/srv/n8n' });
    expect(settings.ok && settings.value.storeKey).toBe(join('/srv/n8n', '.n8n', 'whatsapp', 'Sales-team.sqlite'));
    expect(n8nDataFolder({})).toMatch(/\.n8n$/);
  });

  it('reads 0 as "no cap" and keeps other caps', () => {
    const settings = settingsFromCredential({ dataFolder: '/d', capPerHour: 0, capPerDay: 500 });
    expect(settings.ok && [settings.value.capPerHour, settings.value.capPerDay]).toEqual([undefined, 500]);
  });

  it('reads an old credential without a store choice as the SQLite file, and a PostgreSQL one with the workspace name as its schema', () => {
    const old = settingsFromCredential({ workspaceName: 'sales', dataFolder: '/d' });
    expect(old.ok && old.value.store).toEqual({ kind: 'sqlite', path: join('/d', 'whatsapp', 'sales.sqlite') });
    const postgres = settingsFromCredential({ ...pgCredential(''), workspaceName: 'sales', pgPassword: 'hunter2', pgSsl: 'require' });
    expect(postgres.ok && postgres.value.store).toEqual({
      kind: 'postgres', host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres', password: 'hunter2', ssl: 'require', schema: 'wahook_sales',
    });
  });

  it('names the bad setting', () => {
    expect(settingsFromCredential({ dataFolder: '/d', initialToken: 'short' })).toEqual({
      ok: false,
      rejection: { status: 400, message: 'Setting "initialToken" must be 16 to 128 letters, digits, "-" or "_".', field: 'initialToken' },
    });
  });
});

describe('queue mode', () => {
  const sqlite = settingsFromCredential({ dataFolder: '/d' });
  const postgres = settingsFromCredential({ storeKind: 'postgres', pgHost: '127.0.0.1', pgDatabase: 'test', pgUser: 'postgres', workspaceName: 'sales' });

  it('refuses a SQLite store in queue mode with one sentence saying to choose PostgreSQL', () => {
    if (!sqlite.ok) throw new Error('settings');
    expect(QUEUE_MODE_REFUSAL).toBe(
      'n8n runs in queue mode (EXECUTIONS_MODE=queue), where every n8n process needs the same store: choose Store "PostgreSQL" in the WhatsApp Workspace credential, since the embedded SQLite file belongs to one process.',
    );
    expect(() => refuseQueueMode(sqlite.value, { EXECUTIONS_MODE: 'queue' })).toThrow(new Error(QUEUE_MODE_REFUSAL));
    expect(() => refuseQueueMode(sqlite.value, { EXECUTIONS_MODE: 'regular' })).not.toThrow();
    expect(() => refuseQueueMode(sqlite.value, {})).not.toThrow();
  });

  it('allows a PostgreSQL store in queue mode, as in regular mode', () => {
    if (!postgres.ok) throw new Error('settings');
    expect(postgres.value.storeKey).toBe('postgres://postgres@127.0.0.1:5432/test?schema=wahook_sales');
    expect(() => refuseQueueMode(postgres.value, { EXECUTIONS_MODE: 'queue' })).not.toThrow();
    expect(() => refuseQueueMode(postgres.value, {})).not.toThrow();
  });

  it('opens a workspace on a PostgreSQL schema while n8n runs in queue mode', async () => {
    const schema = throwawaySchema();
    process.env.EXECUTIONS_MODE = 'queue';
    try {
      const settings = settingsFromCredential({ ...pgCredential(schema.name), dryRunPhones: '+15105566777' });
      if (!settings.ok) throw new Error(settings.rejection.message);
      const accounts = await withWorkspace(settings.value, async (workspace) => workspace.accounts().map((account) => account.phone));
      expect(accounts).toEqual(['15105566777']);
      expect(workspaces.openKeys()).toEqual([`postgres://postgres@127.0.0.1:5432/test?schema=${schema.name}`]);
    } finally {
      delete process.env.EXECUTIONS_MODE;
      await releaseIdleWorkspaces();
      await schema.drop();
    }
  });
});

describe('one workspace per store per process', () => {
  it('calls share one open workspace, which lingers after the last call and then closes', async () => {
    const store = testCredential();
    try {
      const settings = settingsFromCredential(store.credential);
      if (!settings.ok) throw new Error('settings');
      const [a, b] = await Promise.all([withWorkspace(settings.value, async (w) => w), withWorkspace(settings.value, async (w) => w)]);
      expect(a).toBe(b);
      expect(workspaces.openKeys()).toEqual([settings.value.storeKey]);
      await releaseIdleWorkspaces();
      expect(workspaces.openKeys()).toEqual([]);
    } finally {
      store.cleanup();
    }
  });

  it('LingeringLeases.closing (the process shuts down) releases what lingers at once, and a running call\'s lease as soon as it ends', async () => {
    const registry = new WorkspaceRegistry();
    const leases = new LingeringLeases(600_000, registry);
    const store = testCredential();
    try {
      const settings = settingsFromCredential(store.credential);
      if (!settings.ok) throw new Error('settings');
      const options = () => workspaceOptionsFor(settings.value);
      await leases.use('k', options, async () => undefined);
      expect(registry.openKeys()).toEqual(['k']);
      let finish: () => void = () => undefined;
      const running = leases.use('k', options, () => new Promise<void>((resolve) => (finish = resolve)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await leases.closing();
      // The running call keeps its workspace open...
      expect(registry.openKeys()).toEqual(['k']);
      finish();
      await running;
      // ...and it closes once that call ended, not ten minutes later.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(registry.openKeys()).toEqual([]);
    } finally {
      await leases.releaseAll();
      store.cleanup();
    }
  });

  it('LingeringLeases releases after the linger time, not while a call runs', async () => {
    const registry = new WorkspaceRegistry();
    const leases = new LingeringLeases(50, registry);
    const store = testCredential();
    try {
      const settings = settingsFromCredential(store.credential);
      if (!settings.ok) throw new Error('settings');
      await leases.use('k', () => workspaceOptionsFor(settings.value), async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(registry.openKeys()).toEqual(['k']);
      });
      expect(registry.openKeys()).toEqual(['k']);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(registry.openKeys()).toEqual([]);
    } finally {
      await leases.releaseAll();
      store.cleanup();
    }
  });
});
