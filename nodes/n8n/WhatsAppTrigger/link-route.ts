import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { CREDENTIAL_NAME, settingsFromCredential, withWorkspace } from '../common/workspace-access';

/**
 * GET <path>/link/<link token>[?view=…]: the workspace's one-time link page (the core decides every
 * answer, see shared/linking/link-pages.ts); this only passes the token and query and writes the answer.
 */
export async function serveLinkPage(fn: IWebhookFunctions): Promise<IWebhookResponseData> {
  const res = fn.getResponseObject();
  const token = String((fn.getParamsData() as { linkToken?: unknown }).linkToken ?? '');
  const view = (fn.getQueryData() as { view?: unknown }).view;
  const settings = settingsFromCredential(await fn.getCredentials(CREDENTIAL_NAME));
  if (!settings.ok) {
    res.status(500).json({ status: 500, message: `The WhatsApp Workspace credential is not valid: ${settings.rejection.message}` });
    return { noWebhookResponse: true };
  }
  const answer = await withWorkspace(settings.value, async (workspace) => workspace.linkPages.serve(token, typeof view === 'string' ? view : undefined));
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(answer.body);
  return { noWebhookResponse: true };
}
