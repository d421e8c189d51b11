import { join } from 'node:path';
import { n8nDataFolder, QUEUE_MODE_REFUSAL, refuseQueueMode, releaseIdleWorkspaces, settingsFromCredential, withWorkspace } from '../../nodes/n8n/common/workspace-access';
import { LingeringLeases, WorkspaceRegistry, workspaceOptionsFor, workspaces } from '../../shared';
import { testCredential } from './helpers';

describe('settingsFromCredential', () => {
  it("puts the store in n8n's own folder when no data folder is given", () => {
    const settings = settingsFromCredential({ workspaceName: 'Sales team', dataFolder: '' }, { N8N_USER_FOLDER: '/srv/n8n' });
    expect(settings.ok && settings.value.storePath).toBe(join('/srv/n8n', '.n8n', 'whatsapp', 'Sales-team.sqlite'));
    expect(n8nDataFolder({})).toMatch(/\.n8n$/);
  });

  it('reads 0 as "no cap" and keeps other caps', () => {
    const settings = settingsFromCredential({ dataFolder: '/d', capPerHour: 0, capPerDay: 500 });
    expect(settings.ok && [settings.value.capPerHour, settings.value.capPerDay]).toEqual([undefined, 500]);
  });

  it('names the bad setting', () => {
    expect(settingsFromCredential({ dataFolder: '/d', initialToken: 'short' })).toEqual({
      ok: false,
      rejection: { status: 400, message: 'Setting "initialToken" must be 16 to 128 letters, digits, "-" or "_".', field: 'initialToken' },
    });
  });
});

describe('queue mode', () => {
  it('refuses with the reason only when EXECUTIONS_MODE=queue', () => {
    expect(() => refuseQueueMode({ EXECUTIONS_MODE: 'queue' })).toThrow(QUEUE_MODE_REFUSAL);
    expect(() => refuseQueueMode({ EXECUTIONS_MODE: 'regular' })).not.toThrow();
    expect(() => refuseQueueMode({})).not.toThrow();
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
      expect(workspaces.openKeys()).toEqual([settings.value.storePath]);
      await releaseIdleWorkspaces();
      expect(workspaces.openKeys()).toEqual([]);
    } finally {
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
