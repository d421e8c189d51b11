import type { IHookFunctions } from 'n8n-workflow';
import { dedicatedUrlTemplate, type PublishedWebhook } from '../../../shared';
import { dedicatedHost } from './dedicated-port';
import { linkWebhook } from './description';

/**
 * What an activating trigger records (see shared/webhook/urls.ts), from n8n's own URLs for this node:
 * n8n builds them from its webhook base URL (WEBHOOK_URL when set) with `:token` left in place.
 * Undefined when n8n gives no URL (it always does for a node with webhooks).
 */
export function publishedWebhook(fn: IHookFunctions): PublishedWebhook | undefined {
  const urlTemplate = fn.getNodeWebhookUrl('default');
  if (urlTemplate === undefined) return undefined;
  const workflow = fn.getWorkflow();
  const node = fn.getNode();
  const queueMode = fn.getNodeParameter('mode', 'queue') === 'queue';
  const port = queueMode ? Number(fn.getNodeParameter('dedicatedPort', 0)) : 0;
  return {
    flowId: workflow.id ?? '',
    nodeId: node.id || node.name,
    label: `${workflow.name ?? workflow.id ?? 'workflow'} / ${node.name}`,
    urlTemplate,
    dedicatedUrlTemplate: port > 0 ? dedicatedUrlTemplate(urlTemplate, dedicatedHost(String(fn.getNodeParameter('dedicatedHost', ''))), port) : null,
    linkUrlTemplate: fn.getNodeWebhookUrl(linkWebhook.name) ?? null,
  };
}
