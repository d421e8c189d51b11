import type { ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { checkCloudApiNumber, checkStore, cloudApiNumbersFor, describeCloudApiNumber, describeStoreReport, type WorkspaceSettings } from '../../../shared';
import { settingsFromCredential, withWorkspace } from '../common/workspace-access';

/**
 * "Test" in the credential dialog: the settings parse and the store opens (created when new). A SQLite
 * store is opened as this process's workspace and each account's connection is reported; a PostgreSQL
 * store is shared by every n8n process, so it is only connected to and migrated, and each account is
 * reported with the process that holds it.
 */
export async function testWorkspaceCredential(
  this: ICredentialTestFunctions,
  credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
  const settings = settingsFromCredential(credential.data ?? {});
  if (!settings.ok) return { status: 'Error', message: settings.rejection.message };
  // The Cloud API number first: a wrong token is the likelier mistake, and it is asked of Meta directly.
  let cloudApi = '';
  for (const number of cloudApiNumbersFor(settings.value.cloudApi)) {
    const checked = await checkCloudApiNumber(number);
    if (!checked.ok) return { status: 'Error', message: checked.rejection.message };
    cloudApi = ` ${describeCloudApiNumber(checked.value)}.`;
  }
  if (settings.value.store.kind === 'postgres') {
    const report = await checkStore(settings.value.store);
    return report.ok ? { status: 'OK', message: `${describeStoreReport(report.value)}${cloudApi}` } : { status: 'Error', message: report.rejection.message };
  }
  const tested = await testSqliteWorkspace(settings.value);
  return tested.status === 'OK' ? { ...tested, message: `${tested.message}${cloudApi}` } : tested;
}

async function testSqliteWorkspace(settings: WorkspaceSettings): Promise<INodeCredentialTestResult> {
  try {
    return await withWorkspace(settings, async (workspace) => {
      const accounts = workspace.connections().map(({ account, state, detail, pauseReason }) => {
        const who = account.phone ? `+${account.phone}` : account.id;
        // Reconnecting while paused: the detail says why the connection is down, and the pause's reason follows.
        const pause = pauseReason && pauseReason !== detail ? ` — paused: ${pauseReason}` : '';
        return `${who} (${account.kind}): ${state ?? 'not connected here'}${detail ? ` — ${detail}` : ''}${pause}`;
      });
      const summary = accounts.length === 0 ? 'no accounts yet: link one with the WhatsApp node\'s Link Account operation' : accounts.join('; ');
      const urls = (await workspace.webhookUrls()).map(({ url, dedicatedUrl }) => (dedicatedUrl ? `${url} (Dedicated Port: ${dedicatedUrl})` : url));
      const where = urls.length === 0 ? 'no active trigger yet: activate a WhatsApp Inbound Webhook Trigger to get the webhook URL' : `webhook URL: ${urls.join(', ')}`;
      return { status: 'OK', message: `Store ${settings.storeKey} is open; ${summary}; ${where}.` };
    });
  } catch (error) {
    return { status: 'Error', message: `The store ${settings.storeKey} could not be opened: ${(error as Error).message}` };
  }
}
