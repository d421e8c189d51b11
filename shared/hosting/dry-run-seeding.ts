import type { Workspace } from '../workspace/workspace';
import type { WorkspaceSettings } from './settings';
import { cloudApiNumbersFor } from './workspace-options';

/** Adds a dry-run account for every configured phone that has none yet (safe to call on every deploy). */
export async function ensureDryRunAccounts(workspace: Workspace, phones: readonly string[]): Promise<void> {
  for (const phone of phones) {
    if (!workspace.accounts().some((account) => account.phone === phone)) await workspace.addDryRunAccount(phone, 'dry run');
  }
}

/**
 * The accounts the settings create, as they are now, on a workspace that may have been opened with older
 * ones (n8n keeps a workspace open across calls whose credential changed): dry runs, and the Cloud API number.
 */
export async function ensureConfiguredAccounts(workspace: Workspace, settings: WorkspaceSettings, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await ensureDryRunAccounts(workspace, settings.dryRunPhones);
  for (const number of cloudApiNumbersFor(settings.cloudApi, env)) await workspace.useCloudApiNumber(number);
}
