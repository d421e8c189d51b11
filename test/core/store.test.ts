import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../shared/store/sqlite';
import { ATTEMPT_LOG_SIZE, type QuotaPolicy, type WorkspaceStore } from '../../shared/store/types';
import { attempt, textMessage } from '../support/messages';
import { STORE_KINDS, type StorePlace } from '../support/store-kinds';
import { tempDir } from '../support/temp';

const policy: QuotaPolicy = { period: 'none', allowance: 3 };

describe.each(STORE_KINDS)('$name store', (kind) => {
  let place: StorePlace;
  let store: WorkspaceStore;

  beforeEach(() => {
    place = kind.place();
    store = place.open();
  });
  afterEach(async () => {
    await place.cleanup();
  });

  const accept = (units: number, messages = Array.from({ length: units }, () => textMessage()), now = 1000) =>
    store.accept({ messages, units, quota: policy, periodKey: 'all', attempt: attempt({ messageId: messages[0]?.id ?? null }), now });

  it('reserves quota and queues messages in one commit, and refuses beyond the allowance with nothing queued', async () => {
    expect(await accept(2)).toEqual({ accepted: true });
    expect(await accept(2)).toEqual({ accepted: false, available: 1, needed: 2 });
    expect(await store.outbox.countByStatus()).toEqual({ queued: 2 });
    expect((await store.quota.state(policy, 'all', 1000)).available).toBe(1);
    expect(await store.attempts.list(10)).toHaveLength(1);
  });

  it('commits concurrent requests together and still never overspends within the batch', async () => {
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => accept(1)));
    expect(outcomes).toEqual([
      { accepted: true },
      { accepted: true },
      { accepted: true },
      { accepted: false, available: 0, needed: 1 },
      { accepted: false, available: 0, needed: 1 },
    ]);
    expect(await store.outbox.countByStatus()).toEqual({ queued: 3 });
  });

  it('queues a request accepted alone ahead of a later concurrent batch, and charges and logs both', async () => {
    const roomy: QuotaPolicy = { period: 'none', allowance: 10 };
    const acceptAs = (message: ReturnType<typeof textMessage>) =>
      store.accept({ messages: [message], units: 1, quota: roomy, periodKey: 'all', attempt: attempt({ messageId: message.id }), now: 1000 });
    const alone = textMessage();
    const batch = [textMessage(), textMessage(), textMessage()];
    // Alone (in SQLite: one atomic statement into the intake, still waiting for its drain when the batch commits).
    expect(await acceptAs(alone)).toEqual({ accepted: true });
    expect(await Promise.all(batch.map(acceptAs))).toEqual(batch.map(() => ({ accepted: true })));
    const claimed = [];
    for (let i = 0; i < 4; i++) claimed.push((await store.outbox.claimNext('acc', 1000))?.id);
    expect(claimed).toEqual([alone, ...batch].map((message) => message.id));
    expect((await store.quota.state(roomy, 'all', 1000)).available).toBe(6);
    expect((await store.attempts.list(10)).map((entry) => entry.messageId)).toEqual([...batch].reverse().concat(alone).map((message) => message.id));
  });

  it('commits requests still waiting for their batch when the store closes', async () => {
    const message = textMessage();
    const pending = accept(1, [message]);
    await store.close();
    expect(await pending).toEqual({ accepted: true });
    store = place.open();
    expect((await store.outbox.get(message.id))?.status).toBe('queued');
  });

  it('claims the oldest due message of the account, in order, and never the same one twice', async () => {
    const first = textMessage();
    const second = textMessage();
    const other = textMessage({ accountId: 'other' });
    await accept(3, [first, second, other]);
    expect((await store.outbox.claimNext('acc', 1000))?.id).toBe(first.id);
    expect((await store.outbox.claimNext('acc', 1000))?.id).toBe(second.id);
    expect(await store.outbox.claimNext('acc', 1000)).toBeUndefined();
    expect((await store.outbox.get(first.id))?.status).toBe('sending');
    expect((await store.outbox.get(first.id))?.attempts).toBe(1);
  });

  it('requeues with a backoff that holds back the rest of the same request', async () => {
    const text = textMessage();
    const file = textMessage({ requestId: text.id, part: 'file', text: null, fileUrl: 'https://x.test/a.png', fileName: 'a.png' });
    await accept(2, [text, file]);
    await store.outbox.claimNext('acc', 1000);
    await store.outbox.requeue(text.id, 5000, 'WhatsApp did not answer', 1000);
    expect(await store.outbox.claimNext('acc', 4999)).toBeUndefined();
    expect(await store.outbox.nextDueAt('acc')).toBe(5000);
    expect((await store.outbox.claimNext('acc', 5000))?.id).toBe(text.id);
  });

  it("holds back and finds only a request's own parts, with other requests queued around them", async () => {
    const before = textMessage();
    const text = textMessage();
    const file = textMessage({ requestId: text.id, part: 'file', text: null, fileUrl: 'https://x.test/a.png', fileName: 'a.png' });
    const after = textMessage();
    const roomy: QuotaPolicy = { period: 'none', allowance: 10 };
    const acceptAs = (messages: ReturnType<typeof textMessage>[]) =>
      store.accept({ messages, units: messages.length, quota: roomy, periodKey: 'all', attempt: attempt({ messageId: messages[0]!.id }), now: 1000 });
    await acceptAs([before]);
    await acceptAs([text, file]);
    await acceptAs([after]);
    expect((await store.outbox.byRequest(text.id)).map((message) => message.id)).toEqual([text.id, file.id]);
    expect((await store.outbox.byRequest(after.id)).map((message) => message.id)).toEqual([after.id]);
    expect(await store.outbox.byRequest('3EB0FFFFFFFFFFFFFFFFFF')).toEqual([]);
    expect((await store.outbox.claimNext('acc', 1000))?.id).toBe(before.id);
    expect((await store.outbox.claimNext('acc', 1000))?.id).toBe(text.id);
    await store.outbox.requeue(text.id, 5000, 'WhatsApp did not answer', 1000);
    // The file waits with its text; the next request's message is not held back.
    expect((await store.outbox.claimNext('acc', 1000))?.id).toBe(after.id);
    expect(await store.outbox.claimNext('acc', 4999)).toBeUndefined();
    expect((await store.outbox.claimNext('acc', 5000))?.id).toBe(text.id);
    expect((await store.outbox.claimNext('acc', 5000))?.id).toBe(file.id);
  });

  it('counts the messages still waiting (queued or sending) of every account, and none of the history', async () => {
    const roomy: QuotaPolicy = { period: 'none', allowance: 10 };
    const messages = [textMessage(), textMessage(), textMessage(), textMessage({ accountId: 'other' }), textMessage({ accountId: 'z' })];
    await store.accept({ messages, units: 5, quota: roomy, periodKey: 'all', attempt: attempt({ messageId: messages[0]!.id }), now: 1000 });
    expect(await store.outbox.countWaiting()).toBe(5);
    const sent = (await store.outbox.claimNext('acc', 1000))!;
    await store.outbox.markSent(sent.id, sent.jid!, 1001);
    const failed = (await store.outbox.claimNext('acc', 1000))!;
    await store.outbox.markFailed(failed.id, 'no', 1002, 1002);
    await store.outbox.claimNext('other', 1000);
    expect(await store.outbox.countByStatus()).toEqual({ queued: 2, sending: 1, sent: 1, failed: 1 });
    expect(await store.outbox.countWaiting()).toBe(3);
  });

  it('gives each account its waiting messages and when the oldest of them was accepted, none of the history', async () => {
    const roomy: QuotaPolicy = { period: 'none', allowance: 10 };
    const first = [textMessage(), textMessage(), textMessage({ accountId: 'other' })];
    await store.accept({ messages: first, units: 3, quota: roomy, periodKey: 'all', attempt: attempt({ messageId: first[0]!.id }), now: 1000 });
    const later = [textMessage(), textMessage({ accountId: 'z' })];
    await store.accept({ messages: later, units: 2, quota: roomy, periodKey: 'all', attempt: attempt({ messageId: later[0]!.id }), now: 2000 });
    expect(await store.outbox.queueByAccount()).toEqual(
      new Map([
        ['acc', { waiting: 3, oldestAcceptedAt: 1000 }],
        ['other', { waiting: 1, oldestAcceptedAt: 1000 }],
        ['z', { waiting: 1, oldestAcceptedAt: 2000 }],
      ]),
    );
    // Sending still waits; once the oldest is sent and the next fails, the oldest waiting one is the later request.
    const sent = (await store.outbox.claimNext('acc', 3000))!;
    expect((await store.outbox.queueByAccount()).get('acc')).toEqual({ waiting: 3, oldestAcceptedAt: 1000 });
    await store.outbox.markSent(sent.id, sent.jid!, 3001);
    const failed = (await store.outbox.claimNext('acc', 3000))!;
    await store.outbox.markFailed(failed.id, 'no', 3002, 3002);
    const z = (await store.outbox.claimNext('z', 3000))!;
    await store.outbox.markSent(z.id, z.jid!, 3003);
    expect(await store.outbox.queueByAccount()).toEqual(
      new Map([
        ['acc', { waiting: 1, oldestAcceptedAt: 2000 }],
        ['other', { waiting: 1, oldestAcceptedAt: 1000 }],
      ]),
    );
  });

  it('refunds a failed message once its refund is due, never below zero and only once', async () => {
    const [message] = [textMessage()];
    await accept(1, [message!]);
    await store.outbox.claimNext('acc', 1000);
    expect(await store.outbox.markFailed(message!.id, '+1 is not on WhatsApp', 1000, 61_000)).toBe(true);
    expect(await store.outbox.markFailed(message!.id, 'again', 1000, 1000)).toBe(false);
    expect(await store.quota.state(policy, 'all', 60_999)).toMatchObject({ used: 1, available: 2, pendingRefunds: 1 });
    expect(await store.quota.state(policy, 'all', 61_000)).toMatchObject({ used: 0, available: 3, pendingRefunds: 0 });
    expect(await store.quota.state(policy, 'all', 99_000)).toMatchObject({ used: 0, available: 3 });
    expect((await store.outbox.get(message!.id))?.reason).toBe('+1 is not on WhatsApp');
  });

  it('moves receipts forward only, and never for a message not yet handed to WhatsApp', async () => {
    const message = textMessage();
    await accept(1, [message]);
    expect(await store.outbox.markReceipt(message.id, 'delivered', 1000)).toBe(false);
    await store.outbox.claimNext('acc', 1000);
    expect(await store.outbox.markSent(message.id, message.jid!, 1001)).toBe(true);
    expect(await store.outbox.markReceipt(message.id, 'read', 1002)).toBe(true);
    expect(await store.outbox.markReceipt(message.id, 'delivered', 1003)).toBe(false);
    expect((await store.outbox.history(message.id)).map((event) => event.status)).toEqual(['queued', 'sending', 'sent', 'read']);
  });

  it('takes a receipt that overtakes the send confirmation as proof of sending', async () => {
    const message = textMessage({ jid: null });
    await accept(1, [message]);
    await store.outbox.claimNext('acc', 1000);
    expect(await store.outbox.markReceipt(message.id, 'delivered', 1001)).toBe(true);
    expect(await store.outbox.markSent(message.id, '14151231234@s.whatsapp.net', 1002)).toBe(false);
    expect(await store.outbox.get(message.id)).toMatchObject({ status: 'delivered', jid: '14151231234@s.whatsapp.net' });
    expect(await store.outbox.countSentSince('acc', 1001)).toBe(1);
    expect((await store.outbox.history(message.id)).map((event) => event.status)).toEqual(['queued', 'sending', 'sent', 'delivered']);
  });

  it('puts messages left in flight by a crash back in the queue with the same id', async () => {
    const message = textMessage();
    await accept(1, [message]);
    await store.outbox.claimNext('acc', 1000);
    await store.close();
    store = place.open();
    expect(await store.outbox.recoverInFlight(2000)).toBe(1);
    const again = await store.outbox.claimNext('acc', 2000);
    expect(again).toMatchObject({ id: message.id, attempts: 2 });
  });

  it('keeps only the last 100 attempts, newest first', async () => {
    for (let i = 1; i <= ATTEMPT_LOG_SIZE + 20; i++) await store.attempts.add(attempt({ at: i, status: 400 }));
    const attempts = await store.attempts.list(1000);
    expect(attempts).toHaveLength(ATTEMPT_LOG_SIZE);
    expect(attempts[0]!.at).toBe(ATTEMPT_LOG_SIZE + 20);
    expect(attempts.at(-1)!.at).toBe(21);
  });

  it('never lets two stores on the same place (one file, one schema) overspend the quota', async () => {
    const second = place.open();
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? store : second).accept({
            messages: [textMessage()],
            units: 1,
            quota: policy,
            periodKey: 'all',
            attempt: attempt(),
            now: 1000,
          }),
        ),
      );
      expect(results.filter((result) => result.accepted)).toHaveLength(3);
      expect(await second.outbox.countByStatus()).toEqual({ queued: 3 });
    } finally {
      await second.close();
    }
  });

  it('assigns stable chat ids and keeps a known name when an update has none', async () => {
    const [alice] = await store.chats.upsert('acc', [{ jid: '1@s.whatsapp.net', name: 'Alice' }], 1);
    const [again] = await store.chats.upsert('acc', [{ jid: '1@s.whatsapp.net', name: null }], 2);
    expect(again).toMatchObject({ chatId: alice!.chatId, name: 'Alice', updatedAt: 2 });
    const [group] = await store.chats.upsert('acc', [{ jid: '120363025246125486@g.us', name: 'Team' }], 3);
    expect(group).toMatchObject({ isGroup: true });
    expect(Number(group!.chatId)).toBeGreaterThan(Number(alice!.chatId));
  });

  it('tops up the current period only', async () => {
    await store.quota.topUp(5, 'all');
    expect((await store.quota.state(policy, 'all', 0)).available).toBe(8);
    expect((await store.quota.state({ period: 'daily', allowance: 3 }, '2026-11-29', 0)).available).toBe(3);
  });
  it("finds a message by the provider's id, and keeps that id when a receipt overtook the send", async () => {
    const [plain, overtaken] = [textMessage(), textMessage()];
    await accept(2, [plain, overtaken]);
    await store.outbox.claimNext('acc', 1000);
    await store.outbox.claimNext('acc', 1000);
    expect(await store.outbox.markSent(plain.id, plain.jid!, 1001, 'wamid.plain')).toBe(true);
    expect(await store.outbox.markReceipt(overtaken.id, 'delivered', 1002)).toBe(true);
    expect(await store.outbox.markSent(overtaken.id, overtaken.jid!, 1003, 'wamid.overtaken')).toBe(false);
    expect(await store.outbox.idForProviderId('wamid.plain')).toBe(plain.id);
    expect(await store.outbox.idForProviderId('wamid.overtaken')).toBe(overtaken.id);
    expect(await store.outbox.idForProviderId('wamid.unknown')).toBeUndefined();
  });

  it("expires an account's old queued messages with their refunds, and lists its failures newest first", async () => {
    const roomy: QuotaPolicy = { period: 'none', allowance: 10 };
    const acceptAt = (message: ReturnType<typeof textMessage>, now: number) =>
      store.accept({ messages: [message], units: 1, quota: roomy, periodKey: 'all', attempt: attempt({ messageId: message.id }), now });
    const [old, older, young, elsewhere] = [textMessage(), textMessage(), textMessage(), textMessage({ accountId: 'other' })];
    await acceptAt(older, 1000);
    await acceptAt(old, 2000);
    await acceptAt(young, 5000);
    await acceptAt(elsewhere, 1000);
    const expired = await store.outbox.expireQueued('acc', 2000, 'logged out', 6000, 7000);
    expect(expired.failed.map((message) => [message.id, message.status, message.reason])).toEqual([
      [older.id, 'failed', 'logged out'],
      [old.id, 'failed', 'logged out'],
    ]);
    expect(expired.oldestRemaining).toBe(5000);
    expect((await store.outbox.lastFailed('acc', 10)).map((message) => message.id)).toEqual([old.id, older.id]);
    expect((await store.outbox.get(elsewhere.id))?.status).toBe('queued');
    expect(await store.quota.state(roomy, 'all', 6999)).toMatchObject({ used: 4, pendingRefunds: 2 });
    expect(await store.quota.state(roomy, 'all', 7000)).toMatchObject({ used: 2, pendingRefunds: 0 });
    expect((await store.outbox.history(old.id)).map((event) => event.status)).toEqual(['queued', 'failed']);
  });

  it('records the later outcome of a request on the attempt that carried it', async () => {
    const message = textMessage();
    await accept(1, [message]);
    await store.attempts.add(attempt({ status: 400 }));
    await store.attempts.setOutcome(message.id, 'delivered', 2000);
    const [refused, carried] = await store.attempts.list(10);
    expect(refused).toMatchObject({ status: 400, outcome: null });
    expect(carried).toMatchObject({ messageId: message.id, outcome: 'delivered', outcomeAt: 2000 });
  });

  it('keeps an attached file with its message until the message is sent', async () => {
    const message = textMessage({ part: 'file', text: null, fileName: 'a.png' });
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]);
    await store.accept({ messages: [message], attachments: [{ messageId: message.id, data, mimetype: 'image/png' }], units: 1, quota: policy, periodKey: 'all', attempt: attempt(), now: 1000 });
    expect(await store.outbox.attachment(message.id)).toEqual({ messageId: message.id, data, mimetype: 'image/png' });
    await store.outbox.claimNext('acc', 1000);
    await store.outbox.markSent(message.id, message.jid!, 1001);
    expect(await store.outbox.attachment(message.id)).toBeUndefined();
  });

  it('counts a dry-run resend of one id as one record handed over twice', async () => {
    const record = { id: 'm1', accountId: 'acc', jid: '1@s.whatsapp.net', kind: 'text', text: 'hi', fileName: null, mimetype: null, bytes: null, at: 5 };
    await store.dryRun.record(record);
    await store.dryRun.record({ ...record, accountId: 'other', id: 'm2' });
    await store.dryRun.record({ ...record, at: 9 });
    expect(await store.dryRun.list('acc')).toEqual([{ ...record, times: 2 }]);
    expect((await store.dryRun.list()).map((entry) => entry.id)).toEqual(['m1', 'm2']);
  });

  it('keeps the webhook state, accounts and feed cursors across a reopen', async () => {
    expect(await store.webhook.get('first', 10)).toEqual({ token: 'first', enabled: true, rotatedAt: 10 });
    expect(await store.webhook.get('ignored', 20)).toEqual({ token: 'first', enabled: true, rotatedAt: 10 });
    await store.webhook.rotate('second', 30);
    await store.webhook.setEnabled(false);
    const account = { id: 'b-acc', kind: 'baileys' as const, phone: '15105550100', name: 'Sales', createdAt: 2, connectedAt: null, active: true };
    await store.accounts.put({ ...account, id: 'a-acc', phone: null, createdAt: 1 });
    await store.accounts.put(account);
    await store.accounts.put({ ...account, name: 'Sales (renamed)', connectedAt: 40 });
    await store.feed.saveCursor('flow-1', 7, 50);
    await store.feed.saveCursor('flow-1', 9, 60);
    await store.close();
    store = place.open();
    expect(await store.webhook.get('ignored', 70)).toEqual({ token: 'second', enabled: false, rotatedAt: 30 });
    expect((await store.accounts.list()).map((known) => known.id)).toEqual(['a-acc', 'b-acc']);
    expect(await store.accounts.get('b-acc')).toEqual({ ...account, name: 'Sales (renamed)', connectedAt: 40 });
    await store.accounts.remove('a-acc');
    expect(await store.accounts.get('a-acc')).toBeUndefined();
    expect(await store.feed.cursor('flow-1')).toBe(9);
    expect(await store.feed.cursor('flow-2')).toBeUndefined();
  });
});

/** What only the embedded store has: its query plans, its intake journal and the file underneath. */
describe('SqliteStore on a real file', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  const file = () => join(dir.path, 'workspace.sqlite');

  beforeEach(() => {
    dir = tempDir();
    store = new SqliteStore({ path: file() });
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  const accept = (units: number, messages = Array.from({ length: units }, () => textMessage()), now = 1000) =>
    store.accept({ messages, units, quota: policy, periodKey: 'all', attempt: attempt({ messageId: messages[0]?.id ?? null }), now });

  it('reads messages at run time through an index, never by a scan of every message queued', () => {
    const prepared: string[] = [];
    const prepare = DatabaseSync.prototype.prepare;
    const spy = jest.spyOn(DatabaseSync.prototype, 'prepare').mockImplementation(function (this: DatabaseSync, sql: string) {
      prepared.push(sql);
      return prepare.call(this, sql);
    });
    const probe = new SqliteStore({ path: join(dir.path, 'plans.sqlite') });
    spy.mockRestore();
    const plans = new DatabaseSync(join(dir.path, 'plans.sqlite'));
    const scans = prepared
      .filter((sql) => /\bmessages\b/.test(sql) && !/^\s*(INSERT|CREATE|PRAGMA)/i.test(sql))
      .filter((sql) => (plans.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).some((row) => /^SCAN messages\b/.test(row.detail)))
      .map((sql) => sql.replace(/\s+/g, ' ').trim());
    plans.close();
    void probe.close();
    // Only the count of the whole history by status reads them all: reports and tests ask for it, the product does not.
    expect(scans).toEqual(['SELECT status, count(*) AS n FROM messages GROUP BY status']);
  });

  it('moves requests a crash left in the intake into the outbox when the store opens', async () => {
    const message = textMessage();
    await accept(1, [message]);
    const countIntake = () => {
      const raw = new DatabaseSync(file(), { readOnly: true });
      const { n } = raw.prepare('SELECT count(*) AS n FROM intake').get() as { n: number };
      raw.close();
      return n;
    };
    expect(countIntake()).toBe(1);
    // A second connection opening the file is what a restarted process does; the first one never drained.
    const restarted = new SqliteStore({ path: file() });
    try {
      const raw = new DatabaseSync(file(), { readOnly: true });
      expect(raw.prepare('SELECT count(*) AS n FROM intake').get()).toEqual({ n: 0 });
      expect(raw.prepare('SELECT id, status FROM messages').all()).toEqual([{ id: message.id, status: 'queued' }]);
      expect(raw.prepare('SELECT used FROM quota_periods').all()).toEqual([{ used: 1 }]);
      raw.close();
      expect(await restarted.attempts.list(10)).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });
});
