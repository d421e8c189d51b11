import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { serveCloudApiCall, type WorkspaceSettings } from '../../../shared';
import { withWorkspace } from '../common/workspace-access';
import { rawBodyOf } from './http';


/**
 * `<path>/cloud-api`: Meta's webhook for the credential's Cloud API number (the core decides every answer,
 * see shared/webhook/cloud-api-webhook.ts); this passes the raw bytes, query and signature, and writes the answer.
 */
export async function serveCloudApiWebhook(fn: IWebhookFunctions, settings: WorkspaceSettings): Promise<IWebhookResponseData> {
  const req = fn.getRequestObject();
  const res = fn.getResponseObject();
  const body = await rawBodyOf(req);
  const url = req.originalUrl ?? req.url ?? '';
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const answer = await withWorkspace(settings, (workspace) =>
    serveCloudApiCall([workspace], { method: req.method, query, body, signature: req.headers['x-hub-signature-256'] }),
  );
  if (answer.warning) fn.logger.warn(`WhatsApp Cloud API webhook: ${answer.warning}`);
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(answer.body);
  return { noWebhookResponse: true };
}
