import type { ICredentialDataDecryptedObject, IDataObject, INodeExecutionData, ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';
import { WhatsAppMessageTrigger, readerKey } from '../../nodes/n8n/WhatsAppMessageTrigger/WhatsAppMessageTrigger.node';
import { CONCURRENT_EXECUTIONS } from '../../nodes/n8n/common/executions';
import { QUEUE_MODE_REFUSAL, releaseIdleWorkspaces, settingsFromCredential, withWorkspace } from '../../nodes/n8n/common/workspace-access';
import { sendFromFlow, Workspace, workspaces } from '../../shared';
import { PostgresStore } from '../../shared/store/postgres';
import { throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import type { IncomingMessage } from '../../shared/transport/types';
import { incomingText } from '../support/incoming';
import { eventually, testCredential, triggerContext } from './helpers';

// The WhatsApp Trigger's trigger() with n8n's functions faked (helpers.ts), over a real workspace on a
// SQLite file whose dry-run account "receives" messages through workspace.received.take, as a transport
// would report them.

const ACCOUNT = 'dry-run-15105566777';
const node = new WhatsAppMessageTrigger();
let store: ReturnType<typeof testCredential>;
const active: ITriggerResponse[] = [];

beforeEach(() => {
  store = testCredential();
});

afterEach(async () => {
  for (const response of active.splice(0)) await response.closeFunction?.();
  await releaseIdleWorkspaces();
  expect(workspaces.openKeys()).toEqual([]);
  store.cleanup();
});

/** The workspace the trigger holds (the registry hands the same one to every user of the store). */
function inWorkspace<T>(use: (workspace: Workspace) => Promise<T>, credential: ICredentialDataDecryptedObject = store.credential): Promise<T> {
  const settings = settingsFromCredential(credential);
  if (!settings.ok) throw new Error(settings.rejection.message);
  return withWorkspace(settings.value, use);
}

/** Messages the dry-run account receives, stored before this resolves. */
const receive = (...messages: IncomingMessage[]) =>
  inWorkspace(async (workspace) => {
    for (const message of messages) workspace.received.take(ACCOUNT, message);
    await workspace.received.settled();
  });

async function start(parameters: IDataObject = {}, holdExecutions = false) {
  const fake = triggerContext(store.credential, parameters, holdExecutions);
  const response = await node.trigger.call(fake.context);
  active.push(response);
  return { ...fake, response, ids: () => fake.emitted.map((data) => data[0]![0]!.json.id) };
}

async function stop(response: ITriggerResponse): Promise<void> {
  active.splice(active.indexOf(response), 1);
  await response.closeFunction!();
}

/** Waits a little: long enough for the reader to have emitted anything it was going to. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe('description', () => {
  it('is a trigger with no input and one output, and no webhooks', () => {
    expect(node.description).toMatchObject({ name: 'whatsAppMessageTrigger', displayName: 'WhatsApp Trigger', group: ['trigger'], inputs: [], outputs: ['main'] });
    expect(node.description.webhooks).toBeUndefined();
    expect(node.description.properties.find((property) => property.name === 'events')).toMatchObject({ type: 'multiOptions', default: ['message'] });
  });
});

describe('trigger(): received messages', () => {
  it('emits each message once, in order, as one execution each, in the shape of ReceivedMessage; own messages are left out', async () => {
    const { emitted, ids } = await start();
    const first = incomingText({ text: 'first' });
    const own = incomingText({ fromMe: true, text: 'from my phone' });
    const second = incomingText({ text: 'second' });
    // The transport reports the first twice (a reconnect redelivers it): stored and emitted once.
    await receive(first, own, second, first);
    await eventually(() => emitted.length === 2);
    await settle();
    expect(ids()).toEqual([first.id, second.id]);
    expect(emitted.every((data) => data.length === 1 && data[0]!.length === 1)).toBe(true);
    expect(emitted[0]![0]![0]!.json).toMatchObject({
      event: 'message',
      id: first.id,
      account: { id: ACCOUNT, phone: '15105566777' },
      chat_id: expect.any(String),
      chat_jid: first.chatJid,
      is_group: false,
      from_me: false,
      type: 'text',
      text: 'first',
      sender: { jid: first.chatJid, phone: '14155550123', push_name: 'Alice' },
    });
    expect(emitted[0]![0]![0]!.binary).toBeUndefined();
  });

  it('applies the filters: chat kinds, types, chats, accounts, own messages when asked', async () => {
    const group = { chatJid: '120363041234567890@g.us', isGroup: true };
    const direct = incomingText({ text: 'direct' });
    const inGroup = incomingText({ ...group, text: 'in a group' });
    const image = incomingText({ ...group, kind: 'image', text: null, media: { mimetype: 'image/jpeg', size: 10, fileName: null, seconds: null } });
    const ownInGroup = incomingText({ ...group, fromMe: true, text: 'mine' });

    const groups = await start({ filters: { chatKinds: 'groups', includeOwn: true } });
    const texts = await start({ filters: { types: ['text'] } });
    const byChat = await start({ filters: { chats: '120363041234567890@g.us' } });
    const otherAccount = await start({ filters: { accounts: '+19995550000' } });
    const byPhone = await start({ filters: { accounts: '+15105566777, wa-other' } });
    await receive(direct, inGroup, image, ownInGroup);
    await eventually(() => groups.emitted.length === 3 && texts.emitted.length === 2 && byChat.emitted.length === 2 && byPhone.emitted.length === 3);
    await settle();
    expect(groups.ids()).toEqual([inGroup.id, image.id, ownInGroup.id]);
    expect(texts.ids()).toEqual([direct.id, inGroup.id]);
    expect(byChat.ids()).toEqual([inGroup.id, image.id]);
    expect(byPhone.ids()).toEqual([direct.id, inGroup.id, image.id]);
    expect(otherAccount.emitted).toEqual([]);
  });

  it('refuses a bad setting with the core\'s sentence, opening nothing', async () => {
    await expect(node.trigger.call(triggerContext(store.credential, { filters: { chatKinds: 'channels' } }).context)).rejects.toThrow(
      'Setting "chatKinds" must be "all", "direct" or "groups"; got "channels".',
    );
    await expect(node.trigger.call(triggerContext(store.credential, { downloadMedia: true, maxMediaMB: 0 }).context)).rejects.toThrow(
      'Setting "maxMediaMB" must be a number from 0.001 to 2048; got 0.',
    );
    expect(workspaces.openKeys()).toEqual([]);
  });

  it('a restart (closed, then trigger() again) resumes after the last message emitted: what arrived meanwhile once, nothing repeated', async () => {
    const before = [incomingText(), incomingText()];
    const first = await start();
    await receive(...before);
    await eventually(() => first.emitted.length === 2);
    await stop(first.response);

    const meanwhile = [incomingText(), incomingText(), incomingText()];
    await receive(...meanwhile);
    const second = await start();
    await eventually(() => second.emitted.length === 3);
    const after = incomingText();
    await receive(after);
    await eventually(() => second.emitted.length === 4);
    await settle();
    expect(first.ids()).toEqual(before.map((message) => message.id));
    expect(second.ids()).toEqual([...meanwhile, after].map((message) => message.id));
  });

  it(`keeps at most ${CONCURRENT_EXECUTIONS} executions running, and a message whose execution had not ended is emitted again after a restart`, async () => {
    const messages = Array.from({ length: CONCURRENT_EXECUTIONS + 2 }, () => incomingText());
    const first = await start({}, true);
    await receive(...messages);
    await eventually(() => first.emitted.length === CONCURRENT_EXECUTIONS);
    await settle();
    expect(first.ids()).toEqual(messages.slice(0, CONCURRENT_EXECUTIONS).map((message) => message.id));
    // The first execution ends: one more starts. The rest are still running when the workflow stops.
    first.finish();
    await eventually(() => first.emitted.length === CONCURRENT_EXECUTIONS + 1);
    const closing = stop(first.response);
    first.finish();
    await closing;

    // n8n marks the unfinished ones crashed and runs nothing again: the trigger emits them once more,
    // from the oldest whose execution had not ended, and the first message never again.
    const second = await start();
    await eventually(() => second.emitted.length === messages.length - 2);
    await settle();
    expect(second.ids()).toEqual(messages.slice(2).map((message) => message.id));
  }, 15_000);

  it('marks received messages read once emitted (not its own ones), when asked', async () => {
    const marked: string[][] = [];
    await inWorkspace(async (workspace) => {
      const original = workspace.received.markRead.bind(workspace.received);
      jest.spyOn(workspace.received, 'markRead').mockImplementation(async (messages) => {
        marked.push(messages.map((message) => message.id));
        return original(messages);
      });
    });
    const plain = await start({ filters: { includeOwn: true } });
    const reading = await start({ markRead: true, filters: { includeOwn: true } });
    const theirs = incomingText();
    const own = incomingText({ fromMe: true });
    await receive(theirs, own);
    await eventually(() => reading.emitted.length === 2 && plain.emitted.length === 2);
    await eventually(() => marked.length === 1);
    await settle();
    expect(marked).toEqual([[theirs.id]]);
  });
});

describe('trigger(): media', () => {
  const image = (size: number | null) => incomingText({ kind: 'image', text: 'a photo', media: { mimetype: 'image/png', size, fileName: 'photo.png', seconds: null } });

  it('over the limit: media_error says so, and nothing is downloaded', async () => {
    const { emitted } = await start({ downloadMedia: true, maxMediaMB: 1 });
    const big = image(2 * 1_048_576);
    await receive(big);
    await eventually(() => emitted.length === 1);
    const item = emitted[0]![0]![0]!;
    expect(item.binary).toBeUndefined();
    expect(item.json).toMatchObject({ id: big.id, media: { size: 2 * 1_048_576 } });
    expect(item.json.media_error).toBe('The media (2097152 bytes) is larger than the 1.0 MB download limit; raise the limit to receive it.');
  });

  it('where the account cannot download here: media_error says why; without Download Media no media_error at all', async () => {
    const downloading = await start({ downloadMedia: true });
    const plain = await start();
    await receive(image(100));
    await eventually(() => downloading.emitted.length === 1 && plain.emitted.length === 1);
    expect(downloading.emitted[0]![0]![0]!.json.media_error).toBe(
      'The media is downloaded only by the process connected to this account; it is not connected here.',
    );
    expect(plain.emitted[0]![0]![0]!.json.media_error).toBeUndefined();
  });

  it('downloaded: the bytes as binary property "data" with the file name and type, in feed order with the messages after it', async () => {
    const bytes = Buffer.from('\x89PNG fake image bytes');
    await inWorkspace(async (workspace) => {
      // Slow, so that the text after the image would overtake it if emissions were not kept in order.
      jest.spyOn(workspace.received, 'media').mockImplementation(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { ok: true, data: bytes, mimetype: 'image/png', fileName: 'photo.png' };
      });
    });
    const { emitted, ids } = await start({ downloadMedia: true });
    const photo = image(bytes.length);
    const text = incomingText();
    await receive(photo, text);
    await eventually(() => emitted.length === 2);
    expect(ids()).toEqual([photo.id, text.id]);
    const item = emitted[0]![0]![0]! as INodeExecutionData;
    expect(item.json.media_error).toBeUndefined();
    expect(item.binary).toEqual({ data: { data: bytes.toString('base64'), fileName: 'photo.png', mimeType: 'image/png', fileSize: String(bytes.length) } });
    expect(emitted[1]![0]![0]!.binary).toBeUndefined();
  });
});

describe('trigger(): status changes', () => {
  it("emits a sent message's status changes as items with event \"status\", and only the events chosen", async () => {
    const { emitted } = await start({ events: ['status'] });
    const sent = await inWorkspace((workspace) => sendFromFlow(workspace, { action: 'send', phone: '+14151231234', text: 'hi' }, 'test'));
    if (!sent.ok) throw new Error(sent.rejection.message);
    await eventually(() => emitted.some((data) => data[0]![0]!.json.status === 'delivered'));
    const statuses = emitted.map((data) => data[0]![0]!.json);
    expect(statuses.map((json) => json.status)).toEqual(['sent', 'delivered']);
    expect(statuses[0]).toEqual({
      event: 'status',
      message_id: sent.value.payload.message_id,
      request_message_id: sent.value.payload.message_id,
      account_id: ACCOUNT,
      status: 'sent',
      reason: null,
      at: expect.any(String),
    });
    // No received message is emitted: Message Received was not chosen.
    await receive(incomingText());
    await settle();
    expect(emitted).toHaveLength(2);
  });
});

describe('trigger(): n8n queue mode on PostgreSQL, the main holding no WhatsApp connection', () => {
  let schema: ThrowawaySchema;
  let worker: Workspace | undefined;
  beforeEach(() => {
    schema = throwawaySchema();
    process.env.EXECUTIONS_MODE = 'queue';
    // As on an n8n main that leaves the sockets to its workers.
    process.env.WAHOOK_OWN_ACCOUNTS = 'false';
  });
  afterEach(async () => {
    delete process.env.EXECUTIONS_MODE;
    delete process.env.WAHOOK_OWN_ACCOUNTS;
    for (const response of active.splice(0)) await response.closeFunction?.();
    await releaseIdleWorkspaces();
    await worker?.close();
    worker = undefined;
    await schema.drop();
  });

  it('emits what the process holding the account received, through the store, and that process\'s account states', async () => {
    store.credential = { ...store.credential, storeKind: 'postgres', pgHost: '127.0.0.1', pgPort: 5432, pgDatabase: 'test', pgUser: 'postgres', pgPassword: '', pgSsl: 'off', pgSchema: schema.name };
    const { emitted } = await start({ events: ['message', 'account'] });
    // Another process (an n8n worker) on the same schema holds the dry-run account and receives.
    const opened = await Workspace.open({ store: new PostgresStore(schema.options()), pacing: { gap: { minMs: 1, maxMs: 2 } } });
    worker = opened;
    await opened.addDryRunAccount('15105566777');
    await opened.addDryRunAccount('15105560000');
    const messages = [incomingText({ text: 'one' }), incomingText({ text: 'two' })];
    for (const message of messages) opened.received.take(ACCOUNT, message);
    await opened.received.settled();

    const received = () => emitted.map((data) => data[0]![0]!.json).filter((json) => json.event === 'message');
    await eventually(() => received().length === 2, 8000);
    expect(received().map((json) => json.id)).toEqual(messages.map((message) => message.id));
    await eventually(() => emitted.some((data) => data[0]![0]!.json.account_id === 'dry-run-15105560000'), 8000);
    expect(emitted.map((data) => data[0]![0]!.json).find((json) => json.account_id === 'dry-run-15105560000')).toEqual({
      event: 'account',
      account_id: 'dry-run-15105560000',
      phone: '15105560000',
      state: 'open',
      detail: null,
    });
    await settle();
    expect(received()).toHaveLength(2);
  }, 20_000);
});

describe('trigger(): a test in the editor (manual mode)', () => {
  /** As n8n does for a test: emit() is replaced only once trigger() has returned, then manualTriggerFunction runs. */
  function manualContext(parameters: IDataObject = {}) {
    const fake = triggerContext(store.credential, parameters);
    let replaced = false;
    const emitted: INodeExecutionData[][][] = [];
    const context = Object.assign(Object.create(fake.context) as ITriggerFunctions, {
      getMode: () => 'manual',
      emit: (data: INodeExecutionData[][], _response?: unknown, done?: { resolve: (run: undefined) => void }) => {
        if (!replaced) throw new Error('Overwrite TriggerContext.emit function');
        emitted.push(data);
        // n8n ends a test's execution once it ran (workflowExecuteAfter).
        if (done) setImmediate(() => done.resolve(undefined));
      },
    });
    return { context, emitted, replace: () => (replaced = true) };
  }

  it('emits only what arrives once it listens, and leaves the active workflow\'s place alone', async () => {
    // The workflow was active once (its place is kept), then inactive while a message arrived.
    await stop((await start()).response);
    const waiting = incomingText({ text: 'arrived while inactive' });
    await receive(waiting);

    const test = manualContext();
    const response = await node.trigger.call(test.context);
    active.push(response);
    test.replace();
    expect(response.manualTriggerFunction).toBeDefined();
    await response.manualTriggerFunction!();
    await settle();
    expect(test.emitted).toEqual([]);
    const fresh = incomingText({ text: 'sent during the test' });
    await receive(fresh);
    await eventually(() => test.emitted.length === 1);
    expect(test.emitted[0]![0]![0]!.json).toMatchObject({ id: fresh.id, text: 'sent during the test' });
    await stop(response);

    // A second test, after a message arrived between the two: not shown either.
    const between = incomingText({ text: 'between the tests' });
    await receive(between);
    const second = manualContext();
    const secondResponse = await node.trigger.call(second.context);
    active.push(secondResponse);
    second.replace();
    await secondResponse.manualTriggerFunction!();
    await settle();
    expect(second.emitted).toEqual([]);
    await stop(secondResponse);

    // Activated again: the active workflow's reader emits all three, from where it stopped.
    const again = await start();
    await eventually(() => again.emitted.length === 3);
    expect(again.ids()).toEqual([waiting.id, fresh.id, between.id]);
    expect(readerKey('wf-1', { name: 'x' }, true)).not.toBe(readerKey('wf-1', { name: 'x' }));
  });
});

it('refuses n8n queue mode on a SQLite store with the reason, opening nothing', async () => {
  process.env.EXECUTIONS_MODE = 'queue';
  try {
    await expect(node.trigger.call(triggerContext(store.credential).context)).rejects.toThrow(QUEUE_MODE_REFUSAL);
    expect(workspaces.openKeys()).toEqual([]);
  } finally {
    delete process.env.EXECUTIONS_MODE;
  }
});
