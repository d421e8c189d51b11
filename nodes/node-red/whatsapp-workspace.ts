import type { NodeAPI } from 'node-red';
import { ensureDryRunAccounts, parseWorkspaceSettings, storePathFor, workspaceOptionsFor, workspaces, type Workspace } from '../../shared';
import { registerAdminRoutes } from './admin-routes';
import type { WorkspaceConfigDef, WorkspaceConfigNode } from './types';

/**
 * The whatsapp-workspace config node: opens (or shares) the workspace of its store when deployed and
 * releases it when stopped. The webhook and send nodes reach the workspace through it.
 */
export = function register(RED: NodeAPI): void {
  function WhatsAppWorkspaceNode(this: WorkspaceConfigNode, def: WorkspaceConfigDef): void {
    RED.nodes.createNode(this, def);
    const dataDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const settings = parseWorkspaceSettings({ ...def }, storePathFor(dataDir, def.storeName || def.id));
    if (!settings.ok) {
      (this as { workspace: Promise<Workspace> }).workspace = Promise.reject(new Error(settings.rejection.message));
      this.workspace.catch(() => undefined);
      this.error(settings.rejection.message);
      return;
    }
    const lease = workspaces.acquire(settings.value.storePath, () => workspaceOptionsFor(settings.value));
    (this as { workspace: Promise<Workspace> }).workspace = lease.then(async ({ workspace }) => {
      await ensureDryRunAccounts(workspace, settings.value.dryRunPhones);
      return workspace;
    });
    this.workspace.catch((error: unknown) => this.error(`The WhatsApp workspace could not open: ${String(error)}`));
    this.on('close', (_removed: boolean, done: () => void) => {
      lease.then((held) => held.release()).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('whatsapp-workspace', WhatsAppWorkspaceNode);
  registerAdminRoutes(RED);
};
