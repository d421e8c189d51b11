import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { WhatsApp } from '../../nodes/n8n/WhatsApp/WhatsApp.node';
import { releaseIdleWorkspaces, settingsFromCredential, withWorkspace } from '../../nodes/n8n/common/workspace-access';
import { LinkHandle, Workspace, workspaces } from '../../shared';
import { throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import { FakeGraphApi } from '../support/fake-graph-api';
import { QUOTED_MESSAGE_UNKNOWN } from '../../shared/contract/messages';
import { incomingText } from '../support/incoming';
import { eventually, executeContext, testCredential, TOKEN } from './helpers';

const node = new WhatsApp();
let store: ReturnType<typeof testCredential>;

beforeEach(() => {
  store = testCredential();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await releaseIdleWorkspaces();
  expect(workspaces.openKeys()).toEqual([]);
  store.cleanup();
});

async function run(parameters: IDataObject, items?: INodeExecutionData[], options?: { continueOnFail?: boolean; responses?: unknown[] }) {
  const [output] = await node.execute.call(executeContext(store.credential, parameters, items, options));
  return output!;
}

function inWorkspace<T>(use: (workspace: Workspace) => Promise<T>): Promise<T> {
  const settings = settingsFromCredential(store.credential);
  if (!settings.ok) throw new Error(settings.rejection.message);
  return withWorkspace(settings.value, use);
}

const sendFields = { operation: 'send', input: 'fields', recipientField: 'phone', recipient: '+1 (415) 123-1234', text: 'hello', additionalFields: {} };

describe('Send Message', () => {
  it('queues the fields as a webhook call would, and the dry-run account sends it', async () => {
    const [item] = await run(sendFields);
    const id = item!.json.message_id as string;
    expect(item!.json).toMatchObject({
      message_id: expect.stringMatching(/^wa_backend:3EB0/),
      account: { id: 'dry-run-15105566777', phone: '15105566777' },
      recipient: { field: 'phone', value: '14151231234' },
      units: 1,
      response: { status: 200, body: { status: 'success', data: { message_id: id } } },
    });
    expect(item!.pairedItem).toEqual({ item: 0 });
    const status = async () => (await run({ operation: 'getStatus', messageId: id }))[0]!.json.status;
    // The dry-run account sends and its fake phone confirms delivery at once.
    await eventually(async () => (await status()) === 'delivered');
  });

  it('sends a file with text as two parts, from the named account', async () => {
    const [item] = await run({
      ...sendFields,
      additionalFields: { fileUrl: 'https://example.test/a.pdf', fileName: 'a.pdf', accountPhone: '+15105566777' },
    });
    expect(item!.json.units).toBe(2);
    expect((item!.json.messages as IDataObject[]).map((message) => message.part)).toEqual(['text', 'file']);
  });

  it('sends an input binary property as the file, typed by its bytes', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(32, 1)]);
    const items: INodeExecutionData[] = [
      { json: {}, binary: { data: { data: png.toString('base64'), fileName: 'chart.png', mimeType: 'application/octet-stream' } } },
    ];
    const [item] = await run({ ...sendFields, text: '', additionalFields: { binaryPropertyName: 'data' } }, items);
    expect(item!.json).toMatchObject({ units: 1, request: { text: '', file: { attached: true, name: 'chart.png' } } });
    const id = (item!.json.message_id as string).slice('wa_backend:'.length);
    await eventually(async () => (await inWorkspace((workspace) => workspace.store.dryRun.list())).some((record) => record.id === id));
    const [record] = await inWorkspace((workspace) => workspace.store.dryRun.list());
    expect(record).toMatchObject({ kind: 'image', mimetype: 'image/png', fileName: 'chart.png', bytes: png.length });
  });

  it('replies in thread to a received message by Quoted Message ID, and refuses an id no message has', async () => {
    const received = incomingText({ text: 'question' });
    const chatId = await inWorkspace(async (workspace) => {
      workspace.received.take('dry-run-15105566777', received);
      await workspace.received.settled();
      return (await workspace.store.inbound.find(received.id))!;
    }).then((stored) => (JSON.parse(stored.body) as { chat_id: string }).chat_id);
    const reply = { ...sendFields, recipientField: 'chat_id', recipient: chatId, text: 'answer' };
    const [item] = await run({ ...reply, additionalFields: { quotedMessageId: received.id } });
    expect(item!.json).toMatchObject({ recipient: { field: 'chat_id' }, request: { quotedMessageId: received.id } });
    await expect(run({ ...reply, additionalFields: { quotedMessageId: '3A0000NOSUCHMESSAGE' } })).rejects.toThrow(QUOTED_MESSAGE_UNKNOWN);
  });

  it('refuses a binary property the input item does not have', async () => {
    await expect(run({ ...sendFields, additionalFields: { binaryPropertyName: 'missing' } })).rejects.toThrow(
      'Field "Attachment Binary Property" names "missing", but the input item has no binary property of that name.',
    );
  });

  it('sends the webhook body a trigger in "Pass to workflow" mode passed on, and answers the call', async () => {
    const body = { action: 'send', 'whatsapp account phone': '+15105566777', phone: '+14151231234', text: 'lorem ipsum' };
    const responses: unknown[] = [];
    const [item] = await run({ operation: 'send', input: 'webhookBody', respond: true }, [{ json: { body } }], { responses });
    expect(item!.json).toMatchObject({ recipient: { field: 'phone', value: '14151231234' }, request: { accountPhone: '15105566777' } });
    expect(responses).toEqual([{ statusCode: 200, headers: {}, body: { status: 'success', data: { message_id: item!.json.message_id } } }]);
  });

  it('answers a refused webhook call with its status and sentence, then fails the step', async () => {
    const responses: unknown[] = [];
    const body = { action: 'send', chat_id: 77234, text: 'hi' };
    const message = 'Field "chat_id" is 77234, but no chat with that id exists in this workspace; list the chats to find its id.';
    await expect(run({ operation: 'send', input: 'webhookBody', respond: true }, [{ json: { body } }], { responses })).rejects.toThrow(message);
    expect(responses).toEqual([{ statusCode: 422, headers: {}, body: { status: 422, data: {}, message } }]);
  });

  it('does not answer the call when told not to', async () => {
    const responses: unknown[] = [];
    const body = { action: 'send', phone: '+14151231234', text: 'x' };
    await run({ operation: 'send', input: 'webhookBody', respond: false }, [{ json: { body } }], { responses });
    expect(responses).toEqual([]);
  });

  it('refuses a bad field with the sentence naming it, as a node error', async () => {
    await expect(run({ ...sendFields, recipient: '12' })).rejects.toThrow(
      'Field "phone" must be a phone number in international format with its country code, such as "+14151231234".',
    );
  });

  it('with "Continue on fail", outputs the refusal as the webhook would answer it (for Respond to Webhook)', async () => {
    const [item] = await run({ ...sendFields, recipientField: 'chat_id', recipient: '77234' }, undefined, { continueOnFail: true });
    const message = 'Field "chat_id" is 77234, but no chat with that id exists in this workspace; list the chats to find its id.';
    expect(item!.json).toEqual({ error: message, response: { status: 422, body: { status: 422, data: {}, message } } });
  });

  it('refuses an input item without a body in webhook-body mode', async () => {
    await expect(run({ operation: 'send', input: 'webhookBody' }, [{ json: { text: 'x' } }])).rejects.toThrow(
      'The input item has no "body" object: use "Webhook Call From the Trigger" after a WhatsApp Inbound Webhook Trigger in "Pass to workflow" mode.',
    );
  });

  it('sends once per input item', async () => {
    const output = await run(sendFields, [{ json: {} }, { json: {} }, { json: {} }]);
    expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
    expect(new Set(output.map((item) => item.json.message_id)).size).toBe(3);
  });

  it('names the bad setting when the credential does not parse', async () => {
    store.credential.quotaAllowance = -1;
    await expect(run(sendFields)).rejects.toThrow(
      'The WhatsApp Workspace credential is not valid: Setting "quotaAllowance" must be a number from 0 to 100000000; got -1.',
    );
  });
});

describe('Get Message Status', () => {
  it('accepts the id with or without the wa_backend: prefix and shows the history', async () => {
    const [sent] = await run(sendFields);
    const id = sent!.json.message_id as string;
    const [withPrefix] = await run({ operation: 'getStatus', messageId: id });
    const [bare] = await run({ operation: 'getStatus', messageId: id.slice('wa_backend:'.length) });
    expect(withPrefix!.json.message_id).toBe(id);
    expect(bare!.json.message_id).toBe(id);
    expect(withPrefix!.json).toMatchObject({ account_id: 'dry-run-15105566777', part: 'text', recipient: { field: 'phone', value: '14151231234' } });
    expect((withPrefix!.json.history as IDataObject[])[0]).toMatchObject({ status: 'queued' });
  });

  it('404 for an unknown id, 400 for an empty one', async () => {
    await expect(run({ operation: 'getStatus', messageId: 'wa_backend:3EB0000000000000000000' })).rejects.toThrow(
      'No message has the id "wa_backend:3EB0000000000000000000" in this workspace.',
    );
    await expect(run({ operation: 'getStatus', messageId: ' ' })).rejects.toThrow(
      'Field "Message ID" is empty: give the message_id the webhook or Send step answered, e.g. wa_backend:3EB0….',
    );
  });
});

describe('Link Account', () => {
  /** A LinkHandle over a fake source: no socket, no network. */
  function fakeLink(events: { qr?: string; code?: string }) {
    let settle!: (phone: string) => void;
    const outcome = new Promise<{ phone: string; name: string | null }>((resolve) => {
      settle = (phone) => resolve({ phone, name: null });
    });
    const cancel = jest.fn(async () => undefined);
    const source = {
      outcome,
      cancel,
      onQr: (listener: (qr: string) => void) => setImmediate(() => events.qr && listener(events.qr)),
      onPairingCode: (listener: (code: string) => void) => setImmediate(() => events.code && listener(events.code)),
    };
    const handle = new LinkHandle(source as never, async (identity) => ({
      id: `wa-${identity.phone}`,
      kind: 'baileys',
      phone: identity.phone,
      name: null,
      createdAt: 0,
      connectedAt: 0,
      active: true,
    }));
    return { handle, settle, cancel };
  }

  it('outputs the QR as a PNG binary and keeps the workspace open until the phone links', async () => {
    const link = fakeLink({ qr: '2@abc,def,ghi' });
    const startLink = jest.spyOn(Workspace.prototype, 'startLink').mockReturnValue(link.handle);
    const [item] = await run({ operation: 'link', linkMethod: 'qr', linkTimeoutSeconds: 60, binaryPropertyName: 'qr' });
    expect(startLink).toHaveBeenCalledWith({});
    expect(item!.json).toMatchObject({ status: 'waiting_for_phone', method: 'qr', qr: '2@abc,def,ghi', pairing_code: null });
    const png = Buffer.from(item!.binary!.qr!.data, 'base64');
    expect(item!.binary!.qr).toMatchObject({ fileName: 'whatsapp-link-qr.png', mimeType: 'image/png' });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    await releaseIdleWorkspaces();
    expect(workspaces.openKeys()).toHaveLength(1);
    link.settle('14155550100');
    await eventually(() => workspaces.openKeys().length === 0);
  });

  it('outputs the pairing code for the phone given', async () => {
    const link = fakeLink({ code: 'ABCD1234' });
    const startLink = jest.spyOn(Workspace.prototype, 'startLink').mockReturnValue(link.handle);
    const [item] = await run({ operation: 'link', linkMethod: 'pairingCode', pairingPhone: '+1 415 555 0100', linkTimeoutSeconds: 60 });
    expect(startLink).toHaveBeenCalledWith({ pairingPhone: '+1 415 555 0100' });
    expect(item!.json).toMatchObject({ method: 'pairingCode', pairing_code: 'ABCD1234', qr: null });
    expect(item!.binary).toBeUndefined();
    link.settle('14155550100');
  });

  it('refuses an empty pairing phone, and a phone that is not one', async () => {
    await expect(run({ operation: 'link', linkMethod: 'pairingCode', pairingPhone: '' })).rejects.toThrow(
      'Field "Phone to Link" is empty: give the phone to link in international format, e.g. +14151231234.',
    );
    await expect(run({ operation: 'link', linkMethod: 'pairingCode', pairingPhone: 'abc' })).rejects.toThrow(
      'The pairing phone "abc" is not a phone number in international format, e.g. +14151231234.',
    );
  });
});

describe('accounts, chats and the webhook', () => {
  it('List Accounts shows each account with its state', async () => {
    expect((await run({ operation: 'listAccounts' })).map((item) => item.json)).toEqual([
      {
        id: 'dry-run-15105566777',
        kind: 'dry-run',
        phone: '+15105566777',
        name: 'dry run',
        active: true,
        state: 'open',
        detail: null,
        paused_until: null,
        pause_reason: null,
        connected_at: expect.any(String),
      },
    ]);
  });

  it('List Accounts says why a paused account is paused, and until when', async () => {
    // A dry-run account never pauses: its connection is reported as a paused linked phone's would be.
    const reason = 'WhatsApp restricted this account from starting new chats: it refused messages to 2 different contacts within an hour (error 463).';
    const connections = Workspace.prototype.connections;
    jest.spyOn(Workspace.prototype, 'connections').mockImplementation(function (this: Workspace) {
      return connections.call(this).map((connection) => ({ ...connection, state: 'paused' as const, detail: reason, pauseReason: reason, pausedUntil: Date.UTC(2026, 10, 20, 15) }));
    });
    expect((await run({ operation: 'listAccounts' })).map((item) => item.json)).toEqual([
      expect.objectContaining({ state: 'paused', detail: reason, pause_reason: reason, paused_until: '2026-11-20T15:00:00.000Z' }),
    ]);
  });

  it('List Chats shows chats with their chat ids, for one account or all; an unknown account is refused', async () => {
    await inWorkspace((workspace) => workspace.addChats('dry-run-15105566777', [{ jid: '120363000000000001@g.us', name: 'Team' }]));
    const all = (await run({ operation: 'listChats', accountId: '' })).map((item) => item.json);
    expect(all).toEqual([{ chat_id: expect.stringMatching(/^\d+$/), account_id: 'dry-run-15105566777', jid: '120363000000000001@g.us', name: 'Team', is_group: true }]);
    expect(await run({ operation: 'listChats', accountId: 'dry-run-15105566777' })).toHaveLength(1);
    await expect(run({ operation: 'listChats', accountId: 'nope' })).rejects.toThrow(
      'Field "Account ID": no account "nope" in this workspace; List Accounts shows the IDs.',
    );
    // The chat id listed is the one a send can use.
    const [sent] = await run({ ...sendFields, recipientField: 'chat_id', recipient: all[0]!.chat_id });
    expect(sent!.json.recipient).toEqual({ field: 'chat_id', value: all[0]!.chat_id });
  });

  it('Rotate Webhook URL gives a new token; Enable/Disable switches it', async () => {
    const [rotated] = await run({ operation: 'rotateWebhook' });
    expect(rotated!.json.token).not.toBe(TOKEN);
    expect(rotated!.json).toMatchObject({ path: `whatsapp/${rotated!.json.token as string}`, enabled: true });
    expect(await inWorkspace(async (workspace) => workspace.checkToken(TOKEN))).toBe('unknown');
    const [disabled] = await run({ operation: 'setWebhookEnabled', enabled: false });
    expect(disabled!.json.enabled).toBe(false);
    expect(await inWorkspace(async (workspace) => workspace.checkToken(rotated!.json.token as string))).toBe('disabled');
    const [enabled] = await run({ operation: 'setWebhookEnabled', enabled: true });
    expect(enabled!.json.enabled).toBe(true);
  });

  it('Get Attempt Log lists attempts newest first with request, response and notes; limit is checked', async () => {
    await run(sendFields);
    await run({ ...sendFields, recipientField: 'chat_id', recipient: '77234' }, undefined, { continueOnFail: true });
    const log = (await run({ operation: 'getAttempts', limit: 10 })).map((item) => item.json);
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ status: 422, remote_address: 'n8n:wf-1:WhatsApp', message_id: null });
    expect(log[1]).toMatchObject({ status: 200, message_id: expect.stringMatching(/^wa_backend:/), notes: 'recipient by phone' });
    expect(await run({ operation: 'getAttempts', limit: 1 })).toHaveLength(1);
    await expect(run({ operation: 'getAttempts', limit: 0 })).rejects.toThrow('Field "Limit" must be a whole number from 1 to 100; got 0.');
  });
});

describe('credential test', () => {
  const test = node.methods.credentialTest.whatsAppWorkspaceTest;

  it("opens the store and reports each account's state", async () => {
    const result = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: store.credential });
    const settings = settingsFromCredential(store.credential);
    expect(result).toEqual({
      status: 'OK',
      message: `Store ${settings.ok ? settings.value.storeKey : ''} is open; +15105566777 (dry-run): open; no active trigger yet: activate a WhatsApp Inbound Webhook Trigger to get the webhook URL.`,
    });
  });

  it('says how to get an account when there is none', async () => {
    const result = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: { ...store.credential, dryRunPhones: '' } });
    expect(result.message).toMatch(/; no accounts yet: link one with the WhatsApp node's Link Account operation; no active trigger yet/);
  });

  it('names the bad setting', async () => {
    const result = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: { ...store.credential, dryRunPhones: 'abc' } });
    expect(result).toEqual({
      status: 'Error',
      message: 'Setting "dryRunPhones" has "abc", which is not a phone number in international format such as +14151231234.',
    });
  });

  it('reports a store that cannot be opened', async () => {
    // A data folder that is a file: the store's folder cannot be made.
    const file = join(String(store.credential.dataFolder), 'a-file');
    writeFileSync(file, '');
    const result = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: { ...store.credential, dataFolder: file } });
    expect(result).toEqual({
      status: 'Error',
      message: `The store ${file}/whatsapp/test.sqlite could not be opened: ENOTDIR: not a directory, mkdir '${file}/whatsapp'`,
    });
  });

  describe('with a Cloud API number', () => {
    let graph: FakeGraphApi;
    beforeEach(async () => {
      graph = await new FakeGraphApi().start();
      process.env.WAHOOK_GRAPH_API_URL = graph.baseUrl;
    });
    afterEach(async () => {
      delete process.env.WAHOOK_GRAPH_API_URL;
      await releaseIdleWorkspaces();
      await graph.close();
    });
    const cloudCredential = (accessToken: string) => ({
      ...store.credential,
      cloudApiPhoneNumberId: graph.phoneNumberId,
      cloudApiAccessToken: accessToken,
      cloudApiAppSecret: graph.appSecret,
      cloudApiVerifyToken: 'verify-me',
    });

    it('asks Meta whether the token and number work together, and says so', async () => {
      const result = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: cloudCredential(graph.accessToken) });
      expect(result.status).toBe('OK');
      expect(result.message).toMatch(/ WhatsApp Cloud API: \+15550100000 \(Test Shop\) answers with this token\.$/);
      expect(graph.requests[0]).toMatchObject({ method: 'GET', path: `/v21.0/${graph.phoneNumberId}`, authorization: `Bearer ${graph.accessToken}` });
    });

    it('names a token Meta refuses, before opening anything', async () => {
      const result = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: cloudCredential('EAAexpired') });
      expect(result).toEqual({
        status: 'Error',
        message: `The WhatsApp Cloud API number ${graph.phoneNumberId} did not check out: The WhatsApp Cloud API access token has expired or is invalid; messages wait until a new token is set.`,
      });
    });
  });

  describe('with a PostgreSQL store', () => {
    let schema: ThrowawaySchema;
    beforeEach(() => {
      schema = throwawaySchema();
    });
    afterEach(async () => {
      await schema.drop();
    });
    const pgCredential = (extra: IDataObject = {}) => ({
      ...store.credential, storeKind: 'postgres', pgHost: '127.0.0.1', pgPort: 5432, pgDatabase: 'test', pgUser: 'postgres', pgPassword: '', pgSsl: 'off', pgSchema: schema.name, ...extra,
    });

    it('connects, migrates and reports each account with the process that holds it', async () => {
      const empty = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: pgCredential() });
      expect(empty).toEqual({ status: 'OK', message: `Store postgres://postgres@127.0.0.1:5432/test?schema=${schema.name} is open and its schema is up to date; no accounts yet.` });
      const other = schema.store();
      await other.accounts.put({ id: 'a1', kind: 'baileys', phone: '15105566777', name: null, createdAt: 1, connectedAt: 2, active: true });
      await other.ownership.acquire('a1', 'worker-2 pid 42', Date.now(), 60_000);
      const owned = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: pgCredential() });
      expect(owned).toEqual({
        status: 'OK',
        message: `Store postgres://postgres@127.0.0.1:5432/test?schema=${schema.name} is open and its schema is up to date; +15105566777 (baileys): linked, held by worker-2 pid 42.`,
      });
      expect(workspaces.openKeys()).toEqual([]);
    });

    it('says why the server cannot be reached, without the password', async () => {
      const result = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: pgCredential({ pgPort: 1, pgPassword: 'hunter2' }) });
      expect(result.status).toBe('Error');
      expect(result.message).toMatch(new RegExp(`^The store postgres://postgres@127\\.0\\.0\\.1:1/test\\?schema=${schema.name} could not be opened: .*ECONNREFUSED`));
      expect(result.message).not.toContain('hunter2');
    });

    it('names a bad PostgreSQL setting', async () => {
      const result = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: pgCredential({ pgSsl: 'sometimes' }) });
      expect(result).toEqual({ status: 'Error', message: 'Setting "pgSsl" must be "off", "require" or "verify"; got "sometimes".' });
    });
  });
});
