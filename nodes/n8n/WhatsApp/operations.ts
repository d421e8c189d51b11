import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import {
  attemptLogJson,
  errorBodyFor,
  externalMessageId,
  internalMessageId,
  startLinkSession,
  successBody,
  sendFromFlow,
  type Workspace,
  type WorkspaceSettings,
} from '../../../shared';
import { holdWorkspace } from '../common/workspace-access';
import type { Operation } from './description';


/** A refusal with the HTTP status the webhook would have answered, and the core's sentence. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OperationContext {
  readonly fn: IExecuteFunctions;
  readonly workspace: Workspace;
  readonly settings: WorkspaceSettings;
  readonly itemIndex: number;
}

type Run = (context: OperationContext) => Promise<INodeExecutionData[]>;

const json = (value: unknown): INodeExecutionData => ({ json: value as IDataObject });
const param = <T>(context: OperationContext, name: string, fallback?: T): T =>
  context.fn.getNodeParameter(name, context.itemIndex, fallback) as T;

/** The contract payload the Send operation makes from the node's fields or the trigger's webhook call. */
export function sendPayload(context: OperationContext): Record<string, unknown> {
  if (param<string>(context, 'input', 'fields') === 'webhookBody') {
    const body = context.fn.getInputData()[context.itemIndex]?.json.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new Refusal(400, 'The input item has no "body" object: use "Webhook Call From the Trigger" after a WhatsApp Inbound Webhook Trigger in "Pass to workflow" mode.');
    }
    return { ...(body as IDataObject) };
  }
  const extra = param<IDataObject>(context, 'additionalFields', {});
  const payload: Record<string, unknown> = {
    action: 'send',
    text: param(context, 'text', ''),
    [param<string>(context, 'recipientField', 'phone')]: param(context, 'recipient', ''),
  };
  if (extra.fileUrl) payload.file_url = extra.fileUrl;
  if (extra.fileName) payload.file_name = extra.fileName;
  if (extra.accountPhone) payload.whatsapp_account_phone = extra.accountPhone;
  if (extra.quotedMessageId) payload.quoted_message_id = extra.quotedMessageId;
  return payload;
}

/**
 * Send; when the input is a webhook call passed on by the trigger, it also answers that call with the
 * contract's status and body (n8n's Respond to Webhook node only answers n8n's own trigger types).
 */
const send: Run = async (context) => {
  const answers = param<string>(context, 'input', 'fields') === 'webhookBody' && param<boolean>(context, 'respond', true) === true;
  try {
    const item = await queue(context);
    if (answers) await context.fn.sendResponse({ statusCode: 200, headers: {}, body: (item.json.response as IDataObject).body });
    return [item];
  } catch (error) {
    if (answers && error instanceof Refusal) {
      await context.fn.sendResponse({ statusCode: error.status, headers: {}, body: errorBodyFor(error.status, error.message) });
    }
    throw error;
  }
};

async function queue(context: OperationContext): Promise<INodeExecutionData> {
  const { fn, workspace } = context;
  const sent = await sendFromFlow(workspace, sendPayload(context), `n8n:${fn.getWorkflow().id ?? ''}:${fn.getNode().name}`, await binaryAttachment(context));
  if (!sent.ok) throw new Refusal(sent.rejection.status, sent.rejection.message);
  return json({ ...sent.value.payload, response: { status: 200, body: successBody(sent.value.acceptance.messageId) } });
}

/** The input item's binary property named in "Attachment Binary Property", if one is named. */
async function binaryAttachment(context: OperationContext): Promise<{ data: Buffer; name: string; mimetype?: string } | undefined> {
  if (param<string>(context, 'input', 'fields') !== 'fields') return undefined;
  const property = String(param<IDataObject>(context, 'additionalFields', {}).binaryPropertyName ?? '').trim();
  if (property === '') return undefined;
  const binary = context.fn.getInputData()[context.itemIndex]?.binary?.[property];
  if (!binary) {
    throw new Refusal(400, `Field "Attachment Binary Property" names "${property}", but the input item has no binary property of that name.`);
  }
  const data = await context.fn.helpers.getBinaryDataBuffer(context.itemIndex, property);
  return { data, name: binary.fileName ?? property, ...(binary.mimeType ? { mimetype: binary.mimeType } : {}) };
}

const getStatus: Run = async (context) => {
  const given = param<string>(context, 'messageId', '').trim();
  if (given === '') throw new Refusal(400, 'Field "Message ID" is empty: give the message_id the webhook or Send step answered, e.g. wa_backend:3EB0….');
  const message = await context.workspace.message(internalMessageId(given));
  if (!message) throw new Refusal(404, `No message has the id "${given}" in this workspace.`);
  return [
    json({
      message_id: externalMessageId(message.id),
      request_message_id: externalMessageId(message.requestId),
      account_id: message.accountId,
      part: message.part,
      status: message.status,
      reason: message.reason,
      recipient: message.recipient,
      attempts: message.attempts,
      created_at: new Date(message.createdAt).toISOString(),
      updated_at: new Date(message.updatedAt).toISOString(),
      history: message.history.map((event) => ({ status: event.status, at: new Date(event.at).toISOString(), detail: event.detail })),
    }),
  ];
};

const link: Run = async (context) => {
  const method = param<'qr' | 'pairingCode'>(context, 'linkMethod', 'qr');
  const pairingPhone = method === 'pairingCode' ? param<string>(context, 'pairingPhone', '').trim() : undefined;
  if (pairingPhone === '') throw new Refusal(400, 'Field "Phone to Link" is empty: give the phone to link in international format, e.g. +14151231234.');
  const timeoutMs = Math.max(10, Number(param(context, 'linkTimeoutSeconds', 180))) * 1000;
  // The link outlives this execution (the phone scans later): it holds its own lease until it settles.
  const lease = await holdWorkspace(context.settings);
  let started;
  try {
    started = await startLinkSession(lease.workspace, { ...(pairingPhone ? { pairingPhone } : {}), timeoutMs, firstCodeWithinMs: 30_000 });
  } catch (error) {
    await lease.release();
    throw new Refusal(400, (error as Error).message);
  }
  void started.settled.finally(() => lease.release());
  const linkUrl = await lease.workspace.linkPageUrl(started.linkToken);
  const item: INodeExecutionData = json({
    status: 'waiting_for_phone',
    method,
    pairing_code: started.pairingCode ?? null,
    qr: started.qr?.qr ?? null,
    // Opens once, follows the rotating QR and shows the outcome; expires with this linking session.
    link_url: linkUrl,
    link_page: linkUrl
      ? 'Open link_url in a browser (once): it shows the live QR or code, then who was linked.'
      : 'No link page: activate a WhatsApp Inbound Webhook Trigger of this workspace, then run Link Account again for a link that follows the rotating QR.',
    expires_at: new Date(started.expiresAt).toISOString(),
    instructions:
      method === 'qr'
        ? 'On the phone: WhatsApp > Settings > Linked devices > Link a device, then scan the QR image.'
        : 'On the phone: WhatsApp > Settings > Linked devices > Link a device > Link with phone number instead, then type the code.',
  });
  if (started.qr) {
    const png = Buffer.from(started.qr.dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64');
    const property = param<string>(context, 'binaryPropertyName', 'qr') || 'qr';
    item.binary = { [property]: await context.fn.helpers.prepareBinaryData(png, 'whatsapp-link-qr.png', 'image/png') };
  }
  return [item];
};

const listAccounts: Run = async (context) =>
  context.workspace.connections().map((connection) =>
    json({
      id: connection.account.id,
      kind: connection.account.kind,
      phone: connection.account.phone === null ? null : `+${connection.account.phone}`,
      name: connection.account.name,
      active: connection.account.active,
      state: connection.state,
      detail: connection.detail,
      paused_until: connection.pausedUntil === null ? null : new Date(connection.pausedUntil).toISOString(),
      pause_reason: connection.pauseReason,
      connected_at: connection.account.connectedAt === null ? null : new Date(connection.account.connectedAt).toISOString(),
    }),
  );

const listChats: Run = async (context) => {
  const accountId = param<string>(context, 'accountId', '').trim();
  if (accountId !== '' && !context.workspace.accounts().some((account) => account.id === accountId)) {
    throw new Refusal(404, `Field "Account ID": no account "${accountId}" in this workspace; List Accounts shows the IDs.`);
  }
  return context.workspace
    .chats(accountId === '' ? undefined : accountId)
    .map((chat) => json({ chat_id: chat.chatId, account_id: chat.accountId, jid: chat.jid, name: chat.name, is_group: chat.isGroup }));
};

const webhookState = (workspace: Workspace) => {
  const state = workspace.webhookState();
  return { token: state.token, path: `whatsapp/${state.token}`, enabled: state.enabled, rotated_at: new Date(state.rotatedAt).toISOString() };
};

/** Every active trigger's URL with the current token: what to paste into the CRM; rotates nothing. */
const getWebhookUrl: Run = async (context) => {
  const urls = await context.workspace.webhookUrls();
  if (urls.length === 0) {
    throw new Refusal(404, 'No active WhatsApp Inbound Webhook Trigger uses this workspace yet: add one to a workflow, activate the workflow, then run Get Webhook URL again.');
  }
  const { enabled } = context.workspace.webhookState();
  return urls.map((entry) =>
    json({
      url: entry.url,
      dedicated_port_url: entry.dedicatedUrl,
      trigger: entry.label,
      workflow_id: entry.flowId,
      node_id: entry.nodeId,
      enabled,
      active_since: new Date(entry.publishedAt).toISOString(),
    }),
  );
};

const rotateWebhook: Run = async (context) => {
  await context.workspace.rotateWebhookToken();
  return [json(webhookState(context.workspace))];
};

const setWebhookEnabled: Run = async (context) => {
  await context.workspace.setWebhookEnabled(param<boolean>(context, 'enabled', true) === true);
  return [json(webhookState(context.workspace))];
};

const getAttempts: Run = async (context) => {
  const limit = Number(param(context, 'limit', 50));
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new Refusal(400, `Field "Limit" must be a whole number from 1 to 100; got ${JSON.stringify(limit)}.`);
  const log = JSON.parse(attemptLogJson(await context.workspace.attempts(limit), Date.now())) as { attempts: IDataObject[] };
  return log.attempts.map(json);
};

export const operations: Readonly<Record<Operation, Run>> = {
  send,
  getStatus,
  link,
  listAccounts,
  listChats,
  getWebhookUrl,
  rotateWebhook,
  setWebhookEnabled,
  getAttempts,
};

