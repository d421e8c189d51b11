import type { Workspace } from '../workspace/workspace';

/** Adds a dry-run account for every configured phone that has none yet (safe to call on every deploy). */
export async function ensureDryRunAccounts(workspace: Workspace, phones: readonly string[]): Promise<void> {
  for (const phone of phones) {
    if (!workspace.accounts().some((account) => account.phone === phone)) await workspace.addDryRunAccount(phone, 'dry run');
  }
}
