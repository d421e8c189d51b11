import type { ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { settingsFromCredential, withWorkspace } from '../common/workspace-access';

/**
 * "Test" in the credential dialog: the settings parse, the store opens (created when new), and each
 * account's connection state is reported.
 */
export async function testWorkspaceCredential(
  this: ICredentialTestFunctions,
  credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
  const settings = settingsFromCredential(credential.data ?? {});
  if (!settings.ok) return { status: 'Error', message: settings.rejection.message };
  try {
    return await withWorkspace(settings.value, async (workspace) => {
      const accounts = workspace.connections().map(({ account, state, detail }) => {
        const who = account.phone ? `+${account.phone}` : account.id;
        return `${who} (${account.kind}): ${state ?? 'not connected here'}${detail ? ` — ${detail}` : ''}`;
      });
      const summary = accounts.length === 0 ? 'no accounts yet: link one with the WhatsApp node\'s Link Account operation' : accounts.join('; ');
      const urls = (await workspace.webhookUrls()).map(({ url, dedicatedUrl }) => (dedicatedUrl ? `${url} (Dedicated Port: ${dedicatedUrl})` : url));
      const where = urls.length === 0 ? 'no active trigger yet: activate a WhatsApp Inbound Webhook Trigger to get the webhook URL' : `webhook URL: ${urls.join(', ')}`;
      return { status: 'OK', message: `Store ${settings.value.storePath} is open; ${summary}; ${where}.` };
    });
  } catch (error) {
    return { status: 'Error', message: `The store ${settings.value.storePath} could not be opened: ${(error as Error).message}` };
  }
}
