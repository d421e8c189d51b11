import { resolveWebhookDescriptionField, webhookDescriptionIsNativelyResolvable, type ICredentialDataDecryptedObject, type IDataObject, type INode, type IWebhookResponseData } from 'n8n-workflow';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WhatsAppTrigger } from '../../nodes/n8n/WhatsAppTrigger/WhatsAppTrigger.node';
import { CONCURRENT_EXECUTIONS } from '../../nodes/n8n/common/executions';
import { QUEUE_MODE_REFUSAL, releaseIdleWorkspaces, settingsFromCredential, withWorkspace } from '../../nodes/n8n/common/workspace-access';
import { SCRAPE_TOKEN_MISSING, workspaces } from '../../shared';
import { readScrape } from '../support/prometheus';
import { throwawaySchema } from '../support/postgres';
import { DRY_RUN_PHONE, eventually, testCredential, TOKEN, webhookContext, triggerContext, type WebhookRequest } from './helpers';

import { SEED_EXAMPLE_1 as EXAMPLE_1, SEED_EXAMPLE_2 as EXAMPLE_2 } from '../support/seed-examples';
const SEND = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'hello' });

const node = new WhatsAppTrigger();
let store: ReturnType<typeof testCredential>;

beforeEach(() => {
  store = testCredential();
});

afterEach(async () => {
  await releaseIdleWorkspaces();
  expect(workspaces.openKeys()).toEqual([]);
  store.cleanup();
});

async function call(request: WebhookRequest, parameters: IDataObject = {}, mode: 'webhook' | 'manual' = 'webhook') {
  const { context, response } = webhookContext(store.credential, { contentType: 'application/json', body: SEND, ...request }, parameters, mode);
  const result: IWebhookResponseData = await node.webhook.call(context);
  return { result, response };
}

const error = (status: number, message: string) => ({ status, data: {}, message });

describe('description', () => {
  it('registers <path>/:token for every method, so the contract answers wrong methods itself, resolved without the expression engine', () => {
    const webhooks = node.description.webhooks!;
    expect(webhooks.map((webhook) => `${webhook.name} ${webhook.httpMethod}`)).toEqual(['default POST', 'default GET', 'default PUT', 'default PATCH', 'default DELETE', 'setup GET']);
    // The "setup" webhook is the one-time link page, GET only (link-page.test.ts).
    expect(resolveWebhookDescriptionField({ parameters: { path: 'crm' } } as unknown as INode, webhooks[5]!, 'path')).toEqual({ resolved: true, value: 'crm/link/:linkToken' });
    const resolve = (field: string, parameters: IDataObject) =>
      resolveWebhookDescriptionField({ parameters } as unknown as INode, webhooks[0]!, field);
    expect(resolve('path', { path: 'whatsapp', mode: 'queue' })).toEqual({ resolved: true, value: 'whatsapp/:token' });
    expect(resolve('responseMode', { path: 'x', mode: 'queue' })).toEqual({ resolved: true, value: 'onReceived' });
    expect(resolve('responseMode', { path: 'x', mode: 'pass' })).toEqual({ resolved: true, value: 'responseNode' });
    expect(webhooks.every(webhookDescriptionIsNativelyResolvable)).toBe(true);
    // n8n serves a full dynamic path as /webhook/<webhook id>/<path>/<token>.
    expect(node.description.webhooks!.every((webhook) => webhook.isFullPath === true)).toBe(true);
    expect(node.description.properties.find((property) => property.name === 'path')).toMatchObject({ default: 'whatsapp' });
    expect(node.description.inputs).toEqual([]);
    // n8n skips its own body parsing for a version-1 webhook node whose options.binaryData is set.
    expect(node.description.version).toBe(1);
    expect(node.description.properties.find((property) => property.name === 'options')).toMatchObject({ type: 'hidden', default: { binaryData: true } });
    expect(node.description.outputNames).toEqual(['Accepted', 'Status']);
  });
});

describe('webhook() in "Queue for sending" mode: every status of the spec with its body', () => {
  it("200 for the seed's first example as printed, with the message id, and emits the accepted message", async () => {
    const { result, response } = await call({ body: EXAMPLE_1 });
    expect(response.status).toBe(200);
    const body = response.body as { status: string; data: { message_id: string } };
    expect(body).toEqual({ status: 'success', data: { message_id: expect.stringMatching(/^wa_backend:3EB0[0-9A-F]{18}$/) } });
    expect(result.noWebhookResponse).toBe(true);
    const emitted = result.workflowData![0]![0]!.json;
    expect(emitted).toMatchObject({
      message_id: body.data.message_id,
      account: { id: 'dry-run-15105566777', phone: '15105566777' },
      recipient: { field: 'phone', value: '14151231234' },
      units: 1,
    });
    expect(result.workflowData![1]).toEqual([]);
  });

  it("400 for the seed's second example as printed, saying where the JSON breaks", async () => {
    const { result, response } = await call({ body: EXAMPLE_2 });
    expect(response).toEqual({
      status: 400,
      headers: {},
      body: error(400, "The body is not valid JSON: expected ',' or '}' after property value at line 5, column 1."),
    });
    expect(result).toEqual({ noWebhookResponse: true });
  });

  it('404 for an unknown token, and for the old token at once after rotation', async () => {
    expect((await call({ token: 'not-the-token' })).response).toEqual({ status: 404, headers: {}, body: error(404, 'Webhook not found') });
    const settings = settingsFromCredential(store.credential);
    if (!settings.ok) throw new Error('settings');
    const rotated = await withWorkspace(settings.value, async (workspace) => (await workspace.rotateWebhookToken()).token);
    expect((await call({})).response).toEqual({ status: 404, headers: {}, body: error(404, 'Webhook not found') });
    expect((await call({ token: rotated })).response.status).toBe(200);
  });

  it('403 when the webhook is disabled', async () => {
    const settings = settingsFromCredential(store.credential);
    if (!settings.ok) throw new Error('settings');
    await withWorkspace(settings.value, (workspace) => workspace.setWebhookEnabled(false));
    expect((await call({})).response).toEqual({ status: 403, headers: {}, body: error(403, 'Webhook disabled') });
  });

  it('405 with Allow: POST for another method', async () => {
    expect((await call({ method: 'GET', body: '' })).response).toEqual({
      status: 405,
      headers: { Allow: 'POST' },
      body: error(405, 'Method GET is not allowed: send the request with POST.'),
    });
  });

  it('415 for a body that is not JSON by its Content-Type', async () => {
    expect((await call({ contentType: 'text/plain' })).response).toEqual({
      status: 415,
      headers: {},
      body: error(415, 'The Content-Type header is "text/plain"; send the body as application/json.'),
    });
  });

  it('413 above 256 KiB', async () => {
    const big = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'x'.repeat(262_144) });
    expect((await call({ body: big })).response).toEqual({
      status: 413,
      headers: {},
      body: error(413, 'The body is larger than the limit of 262144 bytes (256 KiB); send a smaller request.'),
    });
  });

  it('400 naming the field for a bad field', async () => {
    expect((await call({ body: JSON.stringify({ action: 'send', phone: '12', text: 'x' }) })).response).toEqual({
      status: 400,
      headers: {},
      body: error(400, 'Field "phone" must be a phone number in international format with its country code, such as "+14151231234".'),
    });
  });

  it('422 for a chat id the workspace does not know', async () => {
    expect((await call({ body: JSON.stringify({ action: 'send', chat_id: 77234, text: 'hi' }) })).response).toEqual({
      status: 422,
      headers: {},
      body: error(422, 'Field "chat_id" is 77234, but no chat with that id exists in this workspace; list the chats to find its id.'),
    });
  });

  it('429 when the quota is spent', async () => {
    store.cleanup();
    store = testCredential({ quotaAllowance: 1 });
    expect((await call({})).response.status).toBe(200);
    expect((await call({})).response).toEqual({
      status: 429,
      headers: {},
      body: error(429, 'Not enough messaging quota: 0 units are available and this request needs 1; nothing was queued.'),
    });
  });

  it('500 naming the setting when the credential does not parse', async () => {
    store.credential.gapMinSeconds = 5;
    store.credential.gapMaxSeconds = 1;
    expect((await call({})).response).toEqual({
      status: 500,
      headers: {},
      body: error(500, 'The WhatsApp Workspace credential is not valid: Setting "gapMaxSeconds" (1) must not be below "gapMinSeconds" (5).'),
    });
  });

  it('503 with the reason in n8n queue mode, opening nothing', async () => {
    process.env.EXECUTIONS_MODE = 'queue';
    try {
      expect((await call({})).response).toEqual({ status: 503, headers: {}, body: error(503, QUEUE_MODE_REFUSAL) });
      expect(workspaces.openKeys()).toEqual([]);
    } finally {
      delete process.env.EXECUTIONS_MODE;
    }
  });
});

it('reads the raw body through n8n\'s readRawBody when n8n has not read it', async () => {
  const { context, response } = webhookContext(store.credential, { contentType: 'application/json', body: EXAMPLE_1 });
  const req = context.getRequestObject() as unknown as { rawBody?: Buffer; readRawBody?: () => Promise<void> };
  const bytes = req.rawBody;
  delete req.rawBody;
  req.readRawBody = async () => {
    req.rawBody = bytes;
  };
  await node.webhook.call(context);
  expect(response.status).toBe(200);
});

describe('emission of accepted messages', () => {
  it('"Not at all": answers 200 and starts no execution (no workflowData)', async () => {
    const { result, response } = await call({}, { emission: 'none' });
    expect(response.status).toBe(200);
    expect(result).toEqual({ noWebhookResponse: true });
  });

  it('"Not at all" still shows the message on a test call from the editor', async () => {
    const { result } = await call({}, { emission: 'none' }, 'manual');
    expect(result.workflowData![0]).toHaveLength(1);
  });

  it('"In batches": calls hand their messages to the active trigger, emitted once per window', async () => {
    const { context, emitted } = triggerContext(store.credential, { emission: 'batch', batchWindowSeconds: 0.2, emitStatus: false });
    const active = await node.trigger.call(context);
    try {
      const first = await call({}, { emission: 'batch' });
      const second = await call({}, { emission: 'batch' });
      expect(first.result).toEqual({ noWebhookResponse: true });
      expect(second.result).toEqual({ noWebhookResponse: true });
      expect(emitted).toEqual([]);
      await eventually(() => emitted.length === 1);
      const ids = emitted[0]![0]!.map((item) => item.json.message_id);
      expect(ids).toEqual([(first.response.body as IDataObject).data, (second.response.body as IDataObject).data].map((data) => (data as IDataObject).message_id));
      expect(emitted[0]![1]).toEqual([]);
    } finally {
      await active.closeFunction!();
    }
  });

  it('"In batches" in queue mode: the main\'s trigger gathers from the feed what webhook processes accepted, in one execution per window', async () => {
    const schema = throwawaySchema();
    const credential = { ...store.credential, storeKind: 'postgres', pgHost: '127.0.0.1', pgPort: 5432, pgDatabase: 'test', pgUser: 'postgres', pgPassword: '', pgSsl: 'off', pgSchema: schema.name };
    const parameters = { emission: 'batch', batchWindowSeconds: 0.2 };
    const accept = async () => {
      const { context, response } = webhookContext(credential, { contentType: 'application/json', body: SEND }, parameters);
      expect(await node.webhook.call(context)).toEqual({ noWebhookResponse: true });
      return ((response.body as IDataObject).data as IDataObject).message_id;
    };
    process.env.EXECUTIONS_MODE = 'queue';
    try {
      // The main activated the trigger once (its place in the feed is kept), then it stopped.
      const first = triggerContext(credential, { ...parameters, emitStatus: false });
      await (await node.trigger.call(first.context)).closeFunction!();
      // A webhook process (no trigger runs there): the call starts no execution of its own.
      const ids = [await accept()];
      // The main's trigger emits that message and the next, a window at a time.
      const { context, emitted } = triggerContext(credential, { ...parameters, emitStatus: false });
      const active = await node.trigger.call(context);
      try {
        ids.push(await accept());
        await eventually(() => emitted.flatMap((output) => output[0]!).length === 2, 5000);
        expect(emitted.flatMap((output) => output[0]!.map((item) => item.json.message_id))).toEqual(ids);
        expect(emitted.length).toBeLessThanOrEqual(2);
      } finally {
        await active.closeFunction!();
      }
      expect(first.emitted).toEqual([]);
    } finally {
      delete process.env.EXECUTIONS_MODE;
      await releaseIdleWorkspaces();
      await schema.drop();
    }
  });

  it('"In batches" without an active trigger (a test URL) emits the call itself', async () => {
    const { result } = await call({}, { emission: 'batch' });
    expect(result.workflowData![0]).toHaveLength(1);
  });
});

describe('trigger(): a dedicated port', () => {
  const freePort = () =>
    new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
  const post = (port: number, token: string, body = SEND) =>
    fetch(`http://127.0.0.1:${port}/whatsapp/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('serves the contract outside n8n while active, emits each accepted message, and frees the port when closed', async () => {
    const port = await freePort();
    const { context, emitted } = triggerContext(store.credential, { dedicatedPort: port, emitStatus: false });
    const active = await node.trigger.call(context);
    try {
      const accepted = await post(port, TOKEN);
      expect(accepted.status).toBe(200);
      const id = ((await accepted.json()) as { data: { message_id: string } }).data.message_id;
      await eventually(() => emitted.length === 1);
      expect(emitted[0]![0]![0]!.json).toMatchObject({ message_id: id, recipient: { field: 'phone', value: '14151231234' } });
      expect(emitted[0]![1]).toEqual([]);
      const unknown = await post(port, 'not-the-token');
      expect([unknown.status, await unknown.json()]).toEqual([404, error(404, 'Webhook not found')]);
      const bad = await post(port, TOKEN, EXAMPLE_2);
      expect(bad.status).toBe(400);
      expect(emitted).toHaveLength(1);
    } finally {
      await active.closeFunction!();
    }
    await expect(post(port, TOKEN)).rejects.toThrow();
    expect(workspaces.openKeys()).toEqual([]);
  });

  it('keeps at most CONCURRENT_EXECUTIONS executions running at once and starts the held ones in order as they end', async () => {
    const port = await freePort();
    const { context, emitted, finish } = triggerContext(store.credential, { dedicatedPort: port, emitStatus: false }, true);
    const active = await node.trigger.call(context);
    try {
      const ids: string[] = [];
      for (let i = 0; i < CONCURRENT_EXECUTIONS + 2; i++) {
        const answer = await post(port, TOKEN);
        expect(answer.status).toBe(200);
        ids.push(((await answer.json()) as { data: { message_id: string } }).data.message_id);
      }
      // Every call was answered and queued; only CONCURRENT_EXECUTIONS executions started.
      expect(emitted.map((data) => data[0]![0]!.json.message_id)).toEqual(ids.slice(0, CONCURRENT_EXECUTIONS));
      finish();
      await eventually(() => emitted.length === CONCURRENT_EXECUTIONS + 1);
      finish();
      await eventually(() => emitted.length === CONCURRENT_EXECUTIONS + 2);
      expect(emitted.map((data) => data[0]![0]!.json.message_id)).toEqual(ids);
    } finally {
      await active.closeFunction!();
    }
  });

  it('starts no held execution once the workflow is deactivated, and emits the held ones (only those) when it is active again', async () => {
    const port = await freePort();
    const { context, emitted, finish } = triggerContext(store.credential, { dedicatedPort: port, emitStatus: false }, true);
    const active = await node.trigger.call(context);
    const ids: string[] = [];
    for (let i = 0; i < CONCURRENT_EXECUTIONS + 3; i++) {
      const answer = await post(port, TOKEN);
      expect(answer.status).toBe(200);
      ids.push(((await answer.json()) as { data: { message_id: string } }).data.message_id);
    }
    await eventually(() => emitted.length === CONCURRENT_EXECUTIONS);
    // Deactivation waits for the running executions to end (a few seconds at most), then starts nothing more.
    const closing = active.closeFunction!();
    for (let i = 0; i < CONCURRENT_EXECUTIONS; i++) finish();
    await closing;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(emitted).toHaveLength(CONCURRENT_EXECUTIONS);

    // Activated again (a restart does the same): the three held messages are emitted from the store.
    const again = triggerContext(store.credential, { dedicatedPort: port, emitStatus: false });
    const reactivated = await node.trigger.call(again.context);
    try {
      await eventually(() => again.emitted.length === 3);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(again.emitted.map((data) => data[0]![0]!.json.message_id)).toEqual(ids.slice(CONCURRENT_EXECUTIONS));
    } finally {
      await reactivated.closeFunction!();
    }
  });

  it("in queue mode a call through n8n's route starts no execution of its own: the trigger on the main emits it from the feed", async () => {
    // The webhook process holds no emitter of the trigger (that runs on the main); the node's setting tells.
    const schema = throwawaySchema();
    const credential = { ...store.credential, storeKind: 'postgres', pgHost: '127.0.0.1', pgPort: 5432, pgDatabase: 'test', pgUser: 'postgres', pgPassword: '', pgSsl: 'off', pgSchema: schema.name };
    process.env.EXECUTIONS_MODE = 'queue';
    try {
      const { context, response } = webhookContext(credential, { contentType: 'application/json', body: SEND }, { dedicatedPort: await freePort() });
      expect(await node.webhook.call(context)).toEqual({ noWebhookResponse: true });
      expect(response.status).toBe(200);
      // Without a Dedicated Port the call is emitted by its own execution, as in regular mode.
      const plain = webhookContext(credential, { contentType: 'application/json', body: SEND }, {});
      expect((await node.webhook.call(plain.context)).workflowData![0]).toHaveLength(1);
    } finally {
      delete process.env.EXECUTIONS_MODE;
      await releaseIdleWorkspaces();
      await schema.drop();
    }
  });

  it("serves /metrics and /healthz beside the webhook, with the credential's scrape token", async () => {
    const port = await freePort();
    const scrape = 'n8n-scrape-token-0123456789';
    const { context } = triggerContext({ ...store.credential, metricsToken: scrape }, { dedicatedPort: port, dedicatedHost: '127.0.0.1', emission: 'none', emitStatus: false });
    const active = await node.trigger.call(context);
    try {
      expect((await post(port, TOKEN)).status).toBe(200);
      const refused = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect([refused.status, ((await refused.json()) as { message: string }).message]).toEqual([401, SCRAPE_TOKEN_MISSING]);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${scrape}` } });
      expect(metrics.status).toBe(200);
      expect(readScrape(await metrics.text()).value('wahook_webhook_calls_total', { status: '200' })).toBeGreaterThanOrEqual(1);
      const health = await fetch(`http://127.0.0.1:${port}/healthz?token=${scrape}`);
      expect([health.status, ((await health.json()) as { status: string; store: string })]).toMatchObject([200, { status: 'ok', store: 'reachable' }]);
    } finally {
      await active.closeFunction!();
    }
  });

  it('listens only on the address it is given (Dedicated Port Address)', async () => {
    const port = await freePort();
    const { context } = triggerContext(store.credential, { dedicatedPort: port, dedicatedHost: '127.0.0.1', emission: 'none', emitStatus: false });
    const active = await node.trigger.call(context);
    try {
      expect((await post(port, TOKEN)).status).toBe(200);
      await expect(fetch(`http://127.0.0.2:${port}/whatsapp/${TOKEN}`, { method: 'POST' })).rejects.toThrow();
    } finally {
      await active.closeFunction!();
    }
  });

  it('emits nothing with emission off, and refuses a port in use with a sentence', async () => {
    const port = await freePort();
    const first = triggerContext(store.credential, { dedicatedPort: port, emission: 'none', emitStatus: false });
    const active = await node.trigger.call(first.context);
    try {
      expect((await post(port, TOKEN)).status).toBe(200);
      const second = triggerContext(store.credential, { dedicatedPort: port, emitStatus: false });
      await expect(node.trigger.call(second.context)).rejects.toThrow(
        `The dedicated port ${port} cannot be used (EADDRINUSE): choose a free port, or 0 to turn it off.`,
      );
      expect(first.emitted).toEqual([]);
    } finally {
      await active.closeFunction!();
    }
  });
});

describe('trigger(): status output', () => {
  it('emits sent on the Status output when the dry-run account sends, and keeps the workspace open until closed', async () => {
    const { context, emitted } = triggerContext(store.credential);
    const active = await node.trigger.call(context);
    try {
      const { response } = await call({}, { emission: 'none' });
      const id = ((response.body as IDataObject).data as IDataObject).message_id;
      await eventually(() => emitted.some((output) => output[1]![0]?.json.status === 'sent'));
      const sent = emitted.find((output) => output[1]![0]?.json.status === 'sent')!;
      expect(sent[0]).toEqual([]);
      expect(sent[1]![0]!.json).toMatchObject({ message_id: id, request_message_id: id, account_id: 'dry-run-15105566777', status: 'sent', reason: null });
      await releaseIdleWorkspaces();
      expect(workspaces.openKeys()).toHaveLength(1);
    } finally {
      await active.closeFunction!();
    }
    expect(workspaces.openKeys()).toEqual([]);
  });

  it('refuses to start in queue mode with the reason', async () => {
    process.env.EXECUTIONS_MODE = 'queue';
    try {
      await expect(node.trigger.call(triggerContext(store.credential).context)).rejects.toThrow(QUEUE_MODE_REFUSAL);
    } finally {
      delete process.env.EXECUTIONS_MODE;
    }
  });
});

describe('webhook() in "Pass to workflow" mode', () => {
  it('validates and passes the call on without queueing it; the workflow answers', async () => {
    const { result, response } = await call({ body: EXAMPLE_1 }, { mode: 'pass' });
    expect(response).toEqual({ headers: {} });
    expect(result.noWebhookResponse).toBeUndefined();
    expect(result.workflowData![0]![0]!.json).toEqual({
      body: JSON.parse(EXAMPLE_1.replace(/\u00a0/g, ' ')),
      recipient: { field: 'phone', value: '14151231234' },
      remote_address: '203.0.113.7',
    });
    const settings = settingsFromCredential(store.credential);
    if (!settings.ok) throw new Error('settings');
    expect((await withWorkspace(settings.value, (workspace) => workspace.quota())).used).toBe(0);
  });

  it('answers refusals itself with the contract body', async () => {
    expect((await call({ body: EXAMPLE_2 }, { mode: 'pass' })).response.status).toBe(400);
    expect((await call({ token: 'nope' }, { mode: 'pass' })).response).toEqual({ status: 404, headers: {}, body: error(404, 'Webhook not found') });
  });

});

describe('activation hooks', () => {
  it('create() refuses queue mode and a bad credential with the reason, accepts a good one', async () => {
    const hooks = node.webhookMethods.default;
    const hookContext = (credential: ICredentialDataDecryptedObject) =>
      // The editor's test registration ("manual"): nothing is recorded (webhook-url.test.ts covers recording).
      ({ getCredentials: async () => credential, getMode: () => 'manual', getNode: () => ({ name: 'WhatsApp Inbound Webhook Trigger' }), getNodeWebhookUrl: () => undefined }) as never;
    await expect(hooks.create.call(hookContext(store.credential))).resolves.toBe(true);
    await expect(hooks.create.call(hookContext({ ...store.credential, quotaPeriod: 'weekly' }))).rejects.toThrow(
      'Setting "quotaPeriod" must be "none", "daily" or "monthly"; got "weekly".',
    );
    process.env.EXECUTIONS_MODE = 'queue';
    try {
      await expect(hooks.create.call(hookContext(store.credential))).rejects.toThrow(QUEUE_MODE_REFUSAL);
    } finally {
      delete process.env.EXECUTIONS_MODE;
    }
    await expect(hooks.checkExists.call(hookContext(store.credential))).resolves.toBe(false);
    await expect(hooks.delete.call(hookContext(store.credential))).resolves.toBe(true);
  });
});

it('uses the dry-run phone and token the credential names', () => {
  expect(store.credential).toMatchObject({ dryRunPhones: DRY_RUN_PHONE, initialToken: TOKEN });
});
