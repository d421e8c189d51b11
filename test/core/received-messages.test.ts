import { join } from 'node:path';
import type { Account } from '../../shared/model';
import { SqliteStore } from '../../shared/store/sqlite';
import type { IncomingMessage } from '../../shared/transport/types';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import type { ReceivedMessage } from '../../shared/inbound/received';
import type { ReceivedItem } from '../../shared/workspace/received-messages';
import { Workspace, type FeedFollower } from '../../shared/workspace/workspace';
import { FakeTransport, until } from '../support/fake-transport';
import { incomingText } from '../support/incoming';
import { tempDir } from '../support/temp';

const ACCOUNT: Account = { id: 'wa-15105566777', kind: 'baileys', phone: '15105566777', name: null, createdAt: 1, connectedAt: null, active: true };

// The received side of a workspace over a real SQLite store, with a fake transport reporting messages:
// stored once each, handed to followers in order from the durable record (resuming after a restart),
// filtered, replied to in thread by quoted_message_id, marked read, media on demand.
describe('received messages in a workspace', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  let transport: FakeTransport;
  let workspace: Workspace;
  let errors: unknown[];
  const followers: FeedFollower[] = [];

  const open = async (keepMs?: number) => {
    workspace = await Workspace.open({
      store: new SqliteStore({ path }),
      openTransport: () => transport,
      pacing: { gap: { minMs: 1, maxMs: 2 } },
      onError: (error) => errors.push(error),
      ...(keepMs === undefined ? {} : { retention: { keepMs } }),
    });
  };

  const follow = async (reader = 'test-reader', filter = {}) => {
    const items: ReceivedItem[] = [];
    const follower = await workspace.received.follow({ reader, filter, deliver: (batch) => void items.push(...batch) });
    followers.push(follower);
    return { items, follower, ids: () => items.map((item) => item.message.id) };
  };

  const receive = async (...messages: IncomingMessage[]) => {
    for (const message of messages) transport.receive(message);
    await workspace.received.settled();
  };

  const post = (payload: object) =>
    handleWebhookCall(workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify(payload),
      token: workspace.webhookState().token,
      remoteAddress: null,
    });

  beforeEach(async () => {
    dir = tempDir();
    path = join(dir.path, 'w.sqlite');
    transport = new FakeTransport();
    errors = [];
    const store = new SqliteStore({ path });
    await store.accounts.put(ACCOUNT);
    await store.close();
    await open();
  });

  afterEach(async () => {
    for (const follower of followers.splice(0)) await follower.stop();
    await workspace.close();
    dir.cleanup();
    expect(errors).toEqual([]);
  });

  it('stores each message once and hands it over in order, in the documented shape', async () => {
    const { items, ids } = await follow();
    const first = incomingText({ text: 'first' });
    const second = incomingText({ text: 'second' });
    // The transport reports the first twice (a reconnect redelivers it): stored and handed over once.
    await receive(first, second, first);
    await until(() => items.length === 2);
    expect(ids()).toEqual([first.id, second.id]);
    expect(await workspace.store.inbound.count()).toBe(2);
    const chat = workspace.directory.findByJid(ACCOUNT.id, first.chatJid)!;
    expect(chat.name).toBe('Alice');
    expect(items[0]!.message).toEqual({
      event: 'message',
      id: first.id,
      account: { id: ACCOUNT.id, phone: '15105566777' },
      chat_id: chat.chatId,
      chat_name: 'Alice',
      chat_jid: '14155550123@s.whatsapp.net',
      is_group: false,
      sender: { jid: '14155550123@s.whatsapp.net', phone: '14155550123', lid: null, push_name: 'Alice' },
      participant: null,
      from_me: false,
      timestamp: new Date(first.at).toISOString(),
      type: 'text',
      text: 'first',
      quoted: null,
      mentions: [],
      media: null,
      reaction: null,
      target_id: null,
      location: null,
      contacts: null,
      poll: null,
    } satisfies ReceivedMessage);
  });

  it('skips a message that cannot be stored, says so, and stores the ones around it', async () => {
    const { ids } = await follow();
    const before = incomingText();
    // A raw form JSON cannot write (a BigInt): the same on every try, so retrying would hold the rest for good.
    const poison = incomingText({ raw: { value: 10n } });
    const after = incomingText();
    await receive(before, poison, after);
    await until(() => ids().length === 2);
    expect(ids()).toEqual([before.id, after.id]);
    expect(errors).toEqual([new Error(`The received message ${poison.id} could not be stored and was skipped: Do not know how to serialize a BigInt`)]);
    errors.length = 0;
  });

  it('a reader stopped while messages arrive hands them over when it follows again, once each', async () => {
    const before = await follow();
    const early = incomingText();
    await receive(early);
    await until(() => before.items.length === 1);
    await before.follower.stop();
    followers.splice(followers.indexOf(before.follower), 1);
    const meanwhile = [incomingText(), incomingText(), incomingText()];
    await receive(...meanwhile);
    const after = await follow();
    await until(() => after.items.length === 3);
    expect(after.ids()).toEqual(meanwhile.map((message) => message.id));
  });

  it('resumes after the last message handed over across a workspace restart', async () => {
    const first = await follow();
    await receive(incomingText());
    await until(() => first.items.length === 1);
    for (const follower of followers.splice(0)) await follower.stop();
    await workspace.close();
    await open();
    const later = incomingText();
    await receive(later);
    const again = await follow();
    await until(() => again.items.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(again.ids()).toEqual([later.id]);
  });

  it('filters: own messages out by default, then by type and chat kind', async () => {
    const all = await follow('all');
    const images = await follow('images', { types: ['image'], includeOwn: true });
    const groups = await follow('groups', { chatKinds: 'groups' });
    const own = incomingText({ fromMe: true, sender: { jid: '15105566777@s.whatsapp.net', phone: '15105566777', lid: null, pushName: null } });
    const image = incomingText({ kind: 'image', text: 'a caption', media: { mimetype: 'image/jpeg', size: 10, fileName: null, seconds: null } });
    const group = incomingText({ chatJid: '120363000000000001@g.us', isGroup: true, sender: { jid: '99887766@lid', phone: null, lid: '99887766@lid', pushName: 'Bob' } });
    await receive(own, image, group);
    await until(() => all.items.length === 2 && images.items.length === 1 && groups.items.length === 1);
    expect(all.ids()).toEqual([image.id, group.id]);
    expect(images.ids()).toEqual([image.id]);
    expect(groups.items[0]!.message).toMatchObject({ is_group: true, participant: { jid: '99887766@lid', lid: '99887766@lid', phone: null, push_name: 'Bob' } });
  });

  it('replies in thread by quoted_message_id, and refuses an unknown or malformed one with nothing queued', async () => {
    const question = incomingText({ text: 'can you call me?' });
    await receive(question);
    const { chatId } = workspace.directory.findByJid(ACCOUNT.id, question.chatJid)!;

    const unknown = await post({ action: 'send', chat_id: chatId, text: 'hi', quoted_message_id: '3AUNKNOWN' });
    expect(unknown).toMatchObject({
      status: 422,
      body: {
        status: 422,
        data: {},
        message: 'Field "quoted_message_id" names no received message of this workspace: it is unknown, or older than the retention window of received messages.',
      },
    });
    const malformed = await post({ action: 'send', chat_id: chatId, text: 'hi', quoted_message_id: 'has spaces in it' });
    expect(malformed).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^Field "quoted_message_id" must be/) } });
    expect((await workspace.quota()).used).toBe(0);
    expect(await workspace.store.outbox.countByStatus()).toEqual({});

    const reply = await post({ action: 'send', chat_id: chatId, text: 'calling now', quoted_message_id: question.id });
    expect(reply.status).toBe(200);
    await until(() => transport.sent.length === 1);
    expect(transport.sent[0]).toMatchObject({
      jid: question.chatJid,
      text: 'calling now',
      quoted: { id: question.id, chatJid: question.chatJid, senderJid: null, fromMe: false, raw: question.raw },
    });
  });

  it('marks received messages read through the account\'s connection', async () => {
    const { items } = await follow();
    const message = incomingText();
    await receive(message);
    await until(() => items.length === 1);
    await workspace.received.markRead(items.map((item) => item.stored));
    expect(transport.read).toEqual([{ id: message.id, chatJid: message.chatJid, senderJid: null, fromMe: false, raw: message.raw }]);
  });

  it('downloads media within the limit, and says why not over it', async () => {
    const { items } = await follow();
    transport.mediaBytes = Buffer.alloc(2_000, 1);
    const small = incomingText({ kind: 'document', media: { mimetype: 'application/pdf', size: 2_000, fileName: 'a.pdf', seconds: null } });
    const big = incomingText({ kind: 'video', media: { mimetype: 'video/mp4', size: 5_000_000, fileName: null, seconds: 12 } });
    await receive(small, big);
    await until(() => items.length === 2);
    expect(await workspace.received.media(items[0]!.stored, 1_048_576)).toEqual({ ok: true, data: transport.mediaBytes, mimetype: 'application/pdf', fileName: 'a.pdf' });
    expect(await workspace.received.media(items[1]!.stored, 1_048_576)).toEqual({
      ok: false,
      reason: 'The media (5000000 bytes) is larger than the 1.0 MB download limit; raise the limit to receive it.',
    });
  });

  it('drops messages past the retention window; a reply quoting one is then refused', async () => {
    await workspace.close();
    await open(1);
    const old = incomingText();
    await receive(old);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await workspace.retention.round()).toMatchObject({ received: 1 });
    expect(await workspace.store.inbound.count()).toBe(0);
    const { chatId } = workspace.directory.findByJid(ACCOUNT.id, old.chatJid)!;
    expect((await post({ action: 'send', chat_id: chatId, text: 'late', quoted_message_id: old.id })).status).toBe(422);
  });
});
