import type { INodeProperties } from 'n8n-workflow';

export type Operation = 'send' | 'getStatus' | 'link' | 'listAccounts' | 'listChats' | 'getWebhookUrl' | 'rotateWebhook' | 'setWebhookEnabled' | 'getAttempts';

const show = (...operation: Operation[]) => ({ show: { operation } });

export const properties: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Enable or Disable Webhook', value: 'setWebhookEnabled', action: 'Enable or disable the webhook' },
      { name: 'Get Attempt Log', value: 'getAttempts', action: 'Get the last sending attempts' },
      { name: 'Get Message Status', value: 'getStatus', action: 'Get a message status' },
      {
        name: 'Get Webhook URL',
        value: 'getWebhookUrl',
        action: 'Get the webhook URL',
        description: 'The full URL of every active WhatsApp Inbound Webhook Trigger of this workspace, ready to paste; nothing is rotated',
      },
      { name: 'Link Account', value: 'link', action: 'Link a whats app account' },
      { name: 'List Accounts', value: 'listAccounts', action: 'List accounts' },
      { name: 'List Chats', value: 'listChats', action: 'List chats with their chat i ds' },
      { name: 'Rotate Webhook URL', value: 'rotateWebhook', action: 'Rotate the webhook URL' },
      { name: 'Send Message', value: 'send', action: 'Send a message' },
    ],
    default: 'send',
  },

  {
    displayName:
      'Output: Send Message gives the accepted message (message_id, account, recipient, units, response); Get Message Status its status and history; Link Account the first QR (text and PNG binary) or pairing code, link_url (a one-time page that follows the rotating QR) and expires_at; List Accounts / List Chats one item each; Get Webhook URL one item per active trigger (url, dedicated_port_url); Rotate and Enable/Disable the webhook state; Get Attempt Log one item per attempt.',
    name: 'outputNotice',
    type: 'notice',
    default: '',
  },

  // ---- send ----------------------------------------------------------------------------------------
  {
    displayName: 'Input',
    name: 'input',
    type: 'options',
    displayOptions: show('send'),
    options: [
      { name: 'Fields Below', value: 'fields' },
      {
        name: 'Webhook Call From the Trigger',
        value: 'webhookBody',
        description: 'The body field of the item the WhatsApp Inbound Webhook Trigger passed on in "Pass to workflow" mode',
      },
    ],
    default: 'fields',
  },
  {
    displayName: 'Answer the Webhook Call',
    name: 'respond',
    type: 'boolean',
    displayOptions: { show: { operation: ['send'], input: ['webhookBody'] } },
    default: true,
    description: 'Whether this step answers the webhook call as TimelinesAI would: 200 with the message ID, or the refusal\'s status and sentence',
  },
  {
    displayName: 'Recipient By',
    name: 'recipientField',
    type: 'options',
    displayOptions: { show: { operation: ['send'], input: ['fields'] } },
    options: [
      { name: 'Phone', value: 'phone' },
      { name: 'Chat ID', value: 'chat_id' },
      { name: 'JID', value: 'jid' },
      { name: 'Chat Name', value: 'chat_name' },
    ],
    default: 'phone',
  },
  {
    displayName: 'Recipient',
    name: 'recipient',
    type: 'string',
    required: true,
    displayOptions: { show: { operation: ['send'], input: ['fields'] } },
    default: '',
    placeholder: '+14151231234',
    description: 'Phone in international format, a chat ID from List Chats, a WhatsApp JID, or the exact chat name',
  },
  {
    displayName: 'Text',
    name: 'text',
    type: 'string',
    typeOptions: { rows: 4 },
    displayOptions: { show: { operation: ['send'], input: ['fields'] } },
    default: '',
    description: 'Plain text; may be empty when a file is attached',
  },
  {
    displayName: 'Additional Fields',
    name: 'additionalFields',
    type: 'collection',
    placeholder: 'Add Field',
    displayOptions: { show: { operation: ['send'], input: ['fields'] } },
    default: {},
    options: [
      {
        displayName: 'Attachment Binary Property',
        name: 'binaryPropertyName',
        type: 'string',
        default: '',
        placeholder: 'data',
        description: 'Name of the input binary property to send as the file, instead of a File URL (2 MB at most)',
      },
      { displayName: 'File Name', name: 'fileName', type: 'string', default: '', description: 'The attachment\'s name (required with File URL)' },
      { displayName: 'File URL', name: 'fileUrl', type: 'string', default: '', description: 'Public direct-download link of the file to attach (2 MB at most)' },
      {
        displayName: 'Quoted Message ID',
        name: 'quotedMessageId',
        type: 'string',
        default: '',
        placeholder: '3A5F1C0D2B7E9F4C8A6D',
        description: 'Reply in thread to this received message: the ID the WhatsApp Trigger gave it. The reply goes out from the account that received it.',
      },
      {
        displayName: 'Send From Account Phone',
        name: 'accountPhone',
        type: 'string',
        default: '',
        description: 'The account to send from; default: the most recently connected active account',
      },
    ],
  },

  // ---- getStatus -----------------------------------------------------------------------------------
  {
    displayName: 'Message ID',
    name: 'messageId',
    type: 'string',
    required: true,
    displayOptions: show('getStatus'),
    default: '',
    placeholder: 'wa_backend:3EB09FCC85FE99662E46',
  },

  // ---- link ----------------------------------------------------------------------------------------
  {
    displayName: 'Link By',
    name: 'linkMethod',
    type: 'options',
    displayOptions: show('link'),
    options: [
      { name: 'QR Code', value: 'qr', description: 'Output the QR code as a PNG to scan in WhatsApp > Linked devices' },
      { name: 'Pairing Code', value: 'pairingCode', description: 'Output an 8-character code to type on the phone' },
    ],
    default: 'qr',
  },
  {
    displayName: 'Phone to Link',
    name: 'pairingPhone',
    type: 'string',
    required: true,
    displayOptions: { show: { operation: ['link'], linkMethod: ['pairingCode'] } },
    default: '',
    placeholder: '+14151231234',
  },
  {
    displayName: 'Keep Linking For (Seconds)',
    name: 'linkTimeoutSeconds',
    type: 'number',
    displayOptions: show('link'),
    typeOptions: { minValue: 10 },
    default: 180,
    description: 'How long the link stays open for the phone after this step finishes',
  },
  {
    displayName: 'Put QR Code in Field',
    name: 'binaryPropertyName',
    type: 'string',
    displayOptions: { show: { operation: ['link'], linkMethod: ['qr'] } },
    default: 'qr',
    description: 'The binary property that gets the PNG',
  },

  // ---- listChats -----------------------------------------------------------------------------------
  {
    displayName: 'Account ID',
    name: 'accountId',
    type: 'string',
    displayOptions: show('listChats'),
    default: '',
    description: 'Only this account\'s chats (an ID from List Accounts); empty: every account',
  },

  // ---- setWebhookEnabled ---------------------------------------------------------------------------
  {
    displayName: 'Enabled',
    name: 'enabled',
    type: 'boolean',
    displayOptions: show('setWebhookEnabled'),
    default: true,
    description: 'Whether the webhook accepts calls; disabled, it answers 403 "Webhook disabled"',
  },

  // ---- getAttempts ---------------------------------------------------------------------------------
  {
    displayName: 'Limit',
    name: 'limit',
    type: 'number',
    displayOptions: show('getAttempts'),
    typeOptions: { minValue: 1 },
    default: 50,
    description: 'Max number of results to return',
  },
];
