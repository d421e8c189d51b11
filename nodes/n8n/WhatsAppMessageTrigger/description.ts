import type { INodePropertyOptions, INodeProperties } from 'n8n-workflow';
import { DEFAULT_MEDIA_LIMIT_MB, RECEIVED_KINDS } from '../../../shared';

/** What the trigger emits: received messages, status changes of sent messages, account states. */
export type TriggerEvent = 'message' | 'status' | 'account';

/** "voice" → "Voice": the editor's name for a message type. */
const typeOption = (kind: string): INodePropertyOptions => ({ name: kind.charAt(0).toUpperCase() + kind.slice(1), value: kind });

export const properties: INodeProperties[] = [
  {
    displayName:
      'Output: one item per event. A received message: event "message", its WhatsApp message ID (for the Send step\'s Quoted Message ID, to reply in thread), account, chat_id (the Send step\'s Chat ID), chat_name, sender, from_me, timestamp, type, text, quoted, media and more; with Download Media its bytes as the binary property "data" (or media_error saying why not). A status change: event "status", message_id, status (sent, delivered, read, played or failed), reason, at. An account state: event "account", account_id, phone, state, detail.',
    name: 'outputNotice',
    type: 'notice',
    default: '',
  },
  {
    displayName: 'Events',
    name: 'events',
    type: 'multiOptions',
    options: [
      { name: 'Account State', value: 'account', description: 'An account connects, disconnects, is paused or logged out' },
      { name: 'Message Received', value: 'message', description: 'A message reaches one of the workspace\'s accounts' },
      { name: 'Message Status', value: 'status', description: 'A sent message is sent, delivered, read, played or fails' },
    ],
    default: ['message'],
    description:
      'Received messages are read from the workspace\'s store: what arrives while the workflow is inactive or n8n is down is emitted once it is active again (within the retention window), each message once. Status changes and account states are emitted as they happen.',
  },
  {
    displayName: 'Filters',
    name: 'filters',
    type: 'collection',
    placeholder: 'Add Filter',
    default: {},
    description: 'Which received messages start the workflow (status changes and account states are not filtered)',
    options: [
      {
        displayName: 'Accounts',
        name: 'accounts',
        type: 'string',
        default: '',
        placeholder: '+14151231234, wa-14151231234',
        description: 'Only messages to these accounts, by phone or account ID, separated by commas; empty: every account',
      },
      {
        displayName: 'Chat Kinds',
        name: 'chatKinds',
        type: 'options',
        options: [
          { name: 'All Chats', value: 'all' },
          { name: 'Direct Chats Only', value: 'direct' },
          { name: 'Groups Only', value: 'groups' },
        ],
        default: 'all',
      },
      {
        displayName: 'Chats',
        name: 'chats',
        type: 'string',
        default: '',
        placeholder: '12, 120363041234567890@g.us',
        description: 'Only messages in these chats, by chat ID (from List Chats) or JID, separated by commas; empty: every chat',
      },
      {
        displayName: 'Include Own Messages',
        name: 'includeOwn',
        type: 'boolean',
        default: false,
        description: 'Whether messages the account itself sent from the phone start the workflow too',
      },
      {
        displayName: 'Message Types',
        name: 'types',
        type: 'multiOptions',
        options: RECEIVED_KINDS.map(typeOption).sort((a, b) => a.name.localeCompare(b.name)),
        default: [],
        description: 'Only messages of these types; none chosen: every type',
      },
    ],
  },
  {
    displayName: 'Mark as Read',
    name: 'markRead',
    type: 'boolean',
    default: false,
    description: 'Whether each received message is marked read (blue ticks for its sender) once its execution has started',
  },
  {
    displayName: 'Download Media',
    name: 'downloadMedia',
    type: 'boolean',
    default: false,
    description: 'Whether the media of an image, video, audio, voice, document or sticker message is downloaded into the binary property "data"',
  },
  {
    displayName: 'Media Limit (MB)',
    name: 'maxMediaMB',
    type: 'number',
    displayOptions: { show: { downloadMedia: [true] } },
    typeOptions: { minValue: 0.001, maxValue: 2048, numberPrecision: 3 },
    default: DEFAULT_MEDIA_LIMIT_MB,
    description: 'Larger media is not downloaded: the item carries media_error saying so instead',
  },
];
