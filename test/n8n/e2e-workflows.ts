/** The credentials and workflows the end-to-end test imports into a real n8n. */

export const TOKEN = 'e2e-n8n-token-0123456789';
export const QUOTA_TOKEN = 'e2e-n8n-quota-token-0123456789';
export const DRY_RUN_PHONE = '+15105566777';

/** A WhatsApp Workspace credential with the end-to-end tests' pacing and a dry-run phone; `data` overrides any field. */
export const workspaceCredential = (id: string, name: string, data: Record<string, unknown>) => ({
  id,
  name,
  type: 'whatsAppWorkspaceApi',
  data: {
    dataFolder: '',
    quotaPeriod: 'daily',
    refundDelayMinutes: 0,
    gapMinSeconds: 0,
    gapMaxSeconds: 0.05,
    capPerHour: 0,
    capPerDay: 0,
    allowPrivateFileUrls: false,
    dryRunPhones: DRY_RUN_PHONE,
    ...data,
  },
});

export const credentials = [
  workspaceCredential('wahookE2eCred01', 'WhatsApp Workspace (e2e)', { workspaceName: 'e2e', quotaAllowance: 1000, initialToken: TOKEN }),
  workspaceCredential('wahookE2eCred02', 'WhatsApp Workspace (one unit)', { workspaceName: 'e2e-quota', quotaAllowance: 1, initialToken: QUOTA_TOKEN }),
];

const uses = (id: string) => ({ whatsAppWorkspaceApi: { id, name: credentials.find((c) => c.id === id)!.name } });

/** Webhook ids fix the URLs: /webhook/<webhook id>/<path>/<token>. */
export const QUEUE_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000a1';
export const PASS_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000b2';
export const QUOTA_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000c3';

const trigger = (name: string, webhookId: string, parameters: Record<string, unknown>, credentialId = 'wahookE2eCred01') => ({
  id: `${webhookId.slice(0, -2)}ff`,
  name,
  type: 'CUSTOM.whatsAppTrigger',
  typeVersion: 1,
  position: [0, 0],
  webhookId,
  parameters,
  credentials: uses(credentialId),
});

/** An n8n Webhook node at /webhook/<path> answering with the WhatsApp node's output: drives management operations. */
function managementWorkflow(id: string, path: string, whatsApp: Record<string, unknown>) {
  return {
    id,
    name: `Manage: ${path}`,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [
      {
        id: `${id}-hook`,
        name: 'Webhook',
        type: 'n8n-nodes-base.webhook',
        typeVersion: 2,
        position: [0, 0],
        webhookId: `${id}-hook-id`,
        parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', options: {} },
      },
      {
        id: `${id}-wa`,
        name: 'WhatsApp',
        type: 'CUSTOM.whatsApp',
        typeVersion: 1,
        position: [220, 0],
        parameters: whatsApp,
        credentials: uses('wahookE2eCred01'),
      },
    ],
    connections: { Webhook: { main: [[{ node: 'WhatsApp', type: 'main', index: 0 }]] } },
  };
}

export const PORT_WEBHOOK_ID = '0b7c1c52-8a0e-4c8e-9f34-0000000000d4';

/** A trigger answering on its own port (outside n8n's route) and emitting each accepted message. */
export function dedicatedPortWorkflow(port: number) {
  return {
    id: 'wahookPortWf001',
    name: 'WhatsApp webhook: dedicated port, each message',
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [trigger('Port Trigger', PORT_WEBHOOK_ID, { path: 'whatsapp-port', mode: 'queue', emission: 'each', emitStatus: false, dedicatedPort: port })],
    connections: {},
  };
}

export const workflows = [
  {
    id: 'wahookQueueWf01',
    name: 'WhatsApp webhook: queue for sending',
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [trigger('WhatsApp Inbound Webhook Trigger', QUEUE_WEBHOOK_ID, { path: 'whatsapp', mode: 'queue', emission: 'each', emitStatus: false })],
    connections: {},
  },
  {
    id: 'wahookPassWf001',
    name: 'WhatsApp webhook: pass to workflow, the Send step answers',
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [
      trigger('Inbound Webhook', PASS_WEBHOOK_ID, { path: 'whatsapp-pass', mode: 'pass', emitStatus: false }),
      {
        id: 'wahook-pass-send',
        name: 'Send WhatsApp',
        type: 'CUSTOM.whatsApp',
        typeVersion: 1,
        position: [220, 0],
        parameters: { operation: 'send', input: 'webhookBody', respond: true },
        credentials: uses('wahookE2eCred01'),
      },
    ],
    connections: { 'Inbound Webhook': { main: [[{ node: 'Send WhatsApp', type: 'main', index: 0 }], []] } },
  },
  {
    id: 'wahookQuotaWf01',
    name: 'WhatsApp webhook: one unit of quota',
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [trigger('Quota Trigger', QUOTA_WEBHOOK_ID, { path: 'whatsapp-quota', mode: 'queue', emission: 'none', emitStatus: false }, 'wahookE2eCred02')],
    connections: {},
  },
  managementWorkflow('wahookRotateWf1', 'manage-rotate', { operation: 'rotateWebhook' }),
  managementWorkflow('wahookEnableWf1', 'manage-enabled', { operation: 'setWebhookEnabled', enabled: '={{ $json.body.enabled }}' }),
  managementWorkflow('wahookStatusWf1', 'manage-status', { operation: 'getStatus', messageId: '={{ $json.body.message_id }}' }),
];

/**
 * WhatsApp Trigger → WhatsApp Send replying by chat_id in thread (quoted_message_id = the trigger's id),
 * the workflow of the received-message end-to-end tests. `ids` names the workflow and its two nodes.
 */
export function replyInThreadWorkflow(
  ids: { readonly workflow: string; readonly name: string; readonly trigger: { readonly id: string; readonly name: string }; readonly reply: string },
  credential: { readonly id: string; readonly name: string },
  trigger: Record<string, unknown> = { events: ['message'], markRead: true },
) {
  const uses = { whatsAppWorkspaceApi: { id: credential.id, name: credential.name } };
  return {
    id: ids.workflow,
    name: ids.name,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [
      { ...ids.trigger, type: 'CUSTOM.whatsAppMessageTrigger', typeVersion: 1, position: [0, 0], parameters: trigger, credentials: uses },
      {
        id: ids.reply,
        name: 'Reply',
        type: 'CUSTOM.whatsApp',
        typeVersion: 1,
        position: [220, 0],
        parameters: {
          operation: 'send',
          input: 'fields',
          recipientField: 'chat_id',
          recipient: '={{ $json.chat_id }}',
          text: '=re: {{ $json.text }}',
          additionalFields: { quotedMessageId: '={{ $json.id }}' },
        },
        credentials: uses,
      },
    ],
    connections: { [ids.trigger.name]: { main: [[{ node: 'Reply', type: 'main', index: 0 }]] } },
  };
}
