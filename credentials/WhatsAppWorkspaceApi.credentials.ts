import type { ICredentialType, INodeProperties } from 'n8n-workflow';

const ONLY_POSTGRES = { show: { storeKind: ['postgres'] } };

/** The server's fields, asked as n8n's own Postgres credential asks them; shown only for the PostgreSQL store. */
const POSTGRES_FIELDS: INodeProperties[] = [
  { displayName: 'Host', name: 'pgHost', type: 'string', default: 'localhost', displayOptions: ONLY_POSTGRES },
  { displayName: 'Port', name: 'pgPort', type: 'number', default: 5432, displayOptions: ONLY_POSTGRES },
  { displayName: 'Database', name: 'pgDatabase', type: 'string', default: 'postgres', displayOptions: ONLY_POSTGRES },
  { displayName: 'User', name: 'pgUser', type: 'string', default: 'postgres', displayOptions: ONLY_POSTGRES },
  { displayName: 'Password', name: 'pgPassword', type: 'string', typeOptions: { password: true }, default: '', displayOptions: ONLY_POSTGRES },
  {
    displayName: 'SSL',
    name: 'pgSsl',
    type: 'options',
    options: [
      { name: 'Off', value: 'off' },
      { name: 'Require (Encrypt, Do Not Verify the Certificate)', value: 'require' },
      { name: 'Verify (Encrypt and Verify the Certificate)', value: 'verify' },
    ],
    default: 'off',
    displayOptions: ONLY_POSTGRES,
  },
  {
    displayName: 'Schema',
    name: 'pgSchema',
    type: 'string',
    default: '',
    placeholder: 'wahook_default',
    description: 'Schema holding the workspace\'s tables, created when missing. Empty: wahook_ followed by the workspace name.',
    displayOptions: ONLY_POSTGRES,
  },
];

/**
 * Where a WhatsApp workspace's store lives (a SQLite file, or PostgreSQL for n8n's queue mode) and how it paces and limits sending. Holds no secret of
 * WhatsApp's: linked accounts' keys live in the store (nodes cannot write credentials, and the keys
 * change on every message). The WhatsApp node tests it (see `methods.credentialTest`).
 */
export class WhatsAppWorkspaceApi implements ICredentialType {
  name = 'whatsAppWorkspaceApi';

  displayName = 'WhatsApp Workspace API';

  icon = 'file:whatsapp.svg' as const;

  documentationUrl = 'https://github.com/wahook/n8n-nodes-whatsapp#n8n';

  properties: INodeProperties[] = [
    {
      displayName: 'Store',
      name: 'storeKind',
      type: 'options',
      options: [
        { name: 'Embedded (SQLite File)', value: 'sqlite', description: 'A file in the data folder: one n8n process (regular mode)' },
        { name: 'PostgreSQL', value: 'postgres', description: 'A schema of a PostgreSQL database, shared by every n8n process (needed in queue mode)' },
      ],
      // Credentials saved before this field existed have no value: they keep their SQLite file.
      default: 'sqlite',
    },
    {
      displayName: 'Workspace Name',
      name: 'workspaceName',
      type: 'string',
      default: 'default',
      description:
        'Names the store: the file whatsapp/<name>.sqlite in the data folder, or the PostgreSQL schema wahook_<name> unless Schema is set. Credentials naming the same store share its accounts.',
    },
    {
      displayName: 'Data Folder',
      name: 'dataFolder',
      type: 'string',
      default: '',
      placeholder: '/home/node/.n8n',
      description: 'Folder that holds the store. Empty: n8n\'s own folder (N8N_USER_FOLDER/.n8n, else ~/.n8n).',
      displayOptions: { show: { storeKind: ['sqlite'] } },
    },
    ...POSTGRES_FIELDS,
    {
      displayName: 'Quota Allowance',
      name: 'quotaAllowance',
      type: 'number',
      default: 1000,
      description: 'Units per period: a message costs 1, text with an attachment 2; failed messages give theirs back',
    },
    {
      displayName: 'Quota Period',
      name: 'quotaPeriod',
      type: 'options',
      options: [
        { name: 'Daily', value: 'daily' },
        { name: 'Monthly', value: 'monthly' },
        { name: 'None (One Allowance, Never Renewed)', value: 'none' },
      ],
      default: 'daily',
    },
    {
      displayName: 'Refund Delay (Minutes)',
      name: 'refundDelayMinutes',
      type: 'number',
      default: 0,
      description: 'How long the units of a failed message wait before they are available again',
    },
    {
      displayName: 'Keep History (Days)',
      name: 'retentionDays',
      type: 'number',
      default: 30,
      description:
        'How long sent, delivered, read and failed messages (with their history and files) and received messages are kept; 0 keeps everything. A WhatsApp Trigger stopped longer than this misses older received messages.',
    },
    {
      displayName: 'Minimum Gap (Seconds)',
      name: 'gapMinSeconds',
      type: 'number',
      default: 1.5,
      description: 'Shortest random pause between two messages of one account',
    },
    {
      displayName: 'Maximum Gap (Seconds)',
      name: 'gapMaxSeconds',
      type: 'number',
      default: 2.5,
      description: 'Longest random pause between two messages of one account',
    },
    {
      displayName: 'Cap per Minute',
      name: 'capPerMinute',
      type: 'number',
      default: 0,
      description: 'At most this many messages per account per minute (0: no cap)',
    },
    {
      displayName: 'Cap per Hour',
      name: 'capPerHour',
      type: 'number',
      default: 0,
      description: 'At most this many messages per account per hour (0: no cap)',
    },
    {
      displayName: 'Cap per Day',
      name: 'capPerDay',
      type: 'number',
      default: 0,
      description: 'At most this many messages per account per day (0: no cap)',
    },
    {
      displayName: 'Warm-Up Days',
      name: 'warmupDays',
      type: 'number',
      default: 0,
      description:
        'For a newly linked number, the caps start lower and rise in a straight line to full over this many days from when the account was first linked (0: off). Needs at least one cap.',
    },
    {
      displayName: 'Warm-Up Start (%)',
      name: 'warmupStartPercent',
      type: 'number',
      default: 10,
      description: 'The share of each cap on the day the number is linked, from 1 to 100',
      displayOptions: { hide: { warmupDays: [0] } },
    },
    {
      displayName: 'Allow Private File URLs',
      name: 'allowPrivateFileUrls',
      type: 'boolean',
      default: false,
      description: 'Whether file_url may point at private network addresses (a file server on your own network)',
    },
    {
      displayName: 'Dry-Run Phones',
      name: 'dryRunPhones',
      type: 'string',
      default: '',
      placeholder: '+15105566777',
      description: 'Comma-separated phones that get a dry-run account: messages are recorded, never sent. For trying the webhook without a phone.',
    },
    {
      displayName: 'Initial Webhook Token',
      name: 'initialToken',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'The token a new store starts with (16–128 letters, digits, - or _). Empty: random. Ignored once the store exists.',
    },
    {
      displayName: 'Cloud API Phone Number ID',
      name: 'cloudApiPhoneNumberId',
      type: 'string',
      default: '',
      placeholder: '106540352242922',
      description:
        'Optional: a WhatsApp Cloud API business number beside linked phones. Its ID in digits, from WhatsApp > API Setup in your Meta app (not the phone number). Meta\'s callback URL is the WhatsApp Inbound Webhook Trigger\'s production URL with cloud-api in place of the token.',
    },
    {
      displayName: 'Cloud API Access Token',
      name: 'cloudApiAccessToken',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'A System User access token of the business, with the whatsapp_business_messaging permission',
      displayOptions: { hide: { cloudApiPhoneNumberId: [''] } },
    },
    {
      displayName: 'Cloud API App Secret',
      name: 'cloudApiAppSecret',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'The Meta app\'s secret (App settings > Basic): every webhook call must be signed with it',
      displayOptions: { hide: { cloudApiPhoneNumberId: [''] } },
    },
    {
      displayName: 'Cloud API Verify Token',
      name: 'cloudApiVerifyToken',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'Text you choose and enter with the callback URL in the Meta app (WhatsApp > Configuration); the webhook answers its check only with it',
      displayOptions: { hide: { cloudApiPhoneNumberId: [''] } },
    },
    {
      displayName: 'Metrics Scrape Token',
      name: 'metricsToken',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description:
        'For Prometheus: the trigger\'s Dedicated Port serves /metrics and /healthz to callers that send "Authorization: Bearer &lt;token&gt;" (16–256 characters, no spaces). Empty: only to callers on the n8n machine itself.',
    },
  ];
}
