import { fromFunction, webhookDescriptionFields, type INodeProperties, type IWebhookDescription } from 'n8n-workflow';

/**
 * The webhook's path after n8n's `/webhook/<webhook id>/`: the node's Path, then the workspace's secret
 * token. n8n keys dynamic paths by their text alone, so two active triggers need different Paths.
 */
/**
 * The path and response mode come from the node's parameters. Declared with native resolvers, n8n reads
 * them without its expression engine on each call (the template strings are what the editor shows).
 * The functions must be self-contained: n8n inlines their source into the templates.
 */
const parameterFields = webhookDescriptionFields({
  path: fromFunction((parameters) => `${String(parameters.path ?? 'whatsapp')}/:token`),
  responseMode: fromFunction((parameters) => (parameters.mode === 'pass' ? 'responseNode' : 'onReceived')),
});

/**
 * Registered for every method so that the contract, not n8n, answers a wrong method (405 with Allow).
 * In "Pass to workflow" mode a valid call is answered from the workflow, by the WhatsApp Send step.
 */
const METHODS = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'] as const;

const contractWebhooks: IWebhookDescription[] = METHODS.map((httpMethod) => ({
  name: 'default',
  httpMethod,
  ...parameterFields,
  // With a ":param", n8n serves the path under the node's webhook id: /webhook/<webhook id>/<path>/<token>.
  // Without isFullPath it would count the id twice and never match a call.
  isFullPath: true,
}));

/**
 * The one-time link page of a linking session (see shared/linking/link-pages.ts): GET <path>/link/<link token>,
 * answered by the node itself. n8n's webhook names are 'default' | 'setup': linking is the setup.
 */
export const linkWebhook: IWebhookDescription = {
  name: 'setup',
  httpMethod: 'GET',
  ...webhookDescriptionFields({
    path: fromFunction((parameters) => `${String(parameters.path ?? 'whatsapp')}/link/:linkToken`),
    responseMode: fromFunction(() => 'onReceived'),
  }),
  isFullPath: true,
};

export const webhooks: IWebhookDescription[] = [...contractWebhooks, linkWebhook];

export type TriggerMode = 'queue' | 'pass';
export type Emission = 'each' | 'batch' | 'none';

/**
 * n8n parses a version-1 webhook node's body with its own JSON parser unless `options.binaryData` is
 * set, and answers a parse failure itself (422 "Failed to parse request body"). The contract needs the
 * raw bytes (400 saying where the JSON breaks; the seed's examples carry non-breaking spaces), so this
 * hidden parameter turns n8n's parsing off; the node reads the raw body.
 */
export const RAW_BODY_PARAMETER: INodeProperties = {
  displayName: 'Raw Body',
  name: 'options',
  type: 'hidden',
  default: { binaryData: true },
};

export const properties: INodeProperties[] = [
  RAW_BODY_PARAMETER,
  {
    displayName:
      'Activate the workflow, then run the WhatsApp node\'s "Get Webhook URL" operation (or Test the credential) for the full URL to paste.',
    name: 'urlNotice',
    type: 'notice',
    default: '',
  },
  {
    displayName:
      'Outputs: "Accepted" carries one item per accepted message (message_id, account, recipient, text, file, units); in Pass to Workflow mode the call\'s body, recipient and remote_address. "Status" carries each change of a message (message_id, status: sent, delivered, read, played or failed, reason, at).',
    name: 'outputsNotice',
    type: 'notice',
    default: '',
  },
  {
    displayName: 'Path',
    name: 'path',
    type: 'string',
    default: 'whatsapp',
    required: true,
    description: 'The URL segment before the token. Give each active WhatsApp trigger its own path: n8n refuses to activate a second one with the same.',
  },
  {
    displayName: 'Mode',
    name: 'mode',
    type: 'options',
    options: [
      {
        name: 'Queue for Sending',
        value: 'queue',
        description: 'Like TimelinesAI: accept the message, answer with its ID, send it paced',
      },
      {
        name: 'Pass to Workflow',
        value: 'pass',
        description: 'Validate the call and start the workflow; a WhatsApp Send step (input: Webhook Call) sends it and answers the call',
      },
    ],
    default: 'queue',
  },
  {
    displayName: 'Emit Accepted Messages',
    name: 'emission',
    type: 'options',
    displayOptions: { show: { mode: ['queue'] } },
    options: [
      { name: 'Each Message', value: 'each', description: 'One workflow execution per accepted message' },
      { name: 'In Batches', value: 'batch', description: 'One execution per time window with every message accepted in it' },
      { name: 'Not at All', value: 'none', description: 'Answer and queue only: no execution per call (fastest)' },
    ],
    default: 'each',
  },
  {
    displayName: 'Dedicated Port',
    name: 'dedicatedPort',
    type: 'number',
    displayOptions: { show: { mode: ['queue'] } },
    typeOptions: { minValue: 0, maxValue: 65535 },
    default: 0,
    description:
      'While the workflow is active, also serve this webhook at http://&lt;n8n host&gt;:&lt;port&gt;/whatsapp/&lt;token&gt;, outside n8n\'s webhook pipeline (which loads the workflow for every call): far faster for high volumes. Accepted messages are emitted from the workspace\'s store: with Each Message at most 8 executions run at once and the others wait their turn there, so a restart or a deactivation loses none (they are emitted once the workflow is active again). The port also serves /metrics (Prometheus) and /healthz: see the credential\'s Metrics Scrape Token. 0 = off.',
  },
  {
    displayName: 'Dedicated Port Address',
    name: 'dedicatedHost',
    type: 'string',
    displayOptions: { show: { mode: ['queue'] } },
    default: '',
    placeholder: '127.0.0.1',
    description:
      'The address the Dedicated Port listens on. Empty: the address n8n itself listens on (N8N_LISTEN_ADDRESS), or every interface when that is not set, as n8n does.',
  },
  {
    displayName: 'Batch Window (Seconds)',
    name: 'batchWindowSeconds',
    type: 'number',
    displayOptions: { show: { mode: ['queue'], emission: ['batch'] } },
    typeOptions: { minValue: 0.1 },
    default: 5,
  },
  {
    displayName: 'Emit Status Changes',
    name: 'emitStatus',
    type: 'boolean',
    default: true,
    description: 'Whether the Status output gets each sent, delivered, read, played or failed change of the workspace\'s messages',
  },
];
