import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ReceiptStatus } from '../../shared/model';
import { SqliteStore } from '../../shared/store/sqlite';
import { ATTEMPT_LOG_SIZE, type NewMessage, type QuotaPolicy, type WorkspaceStore } from '../../shared/store/types';
import { Retention } from '../../shared/workspace/retention';
import { Workspace } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { attempt, textMessage } from '../support/messages';
import { STORE_KINDS, type StorePlace } from '../support/store-kinds';
import { tempDir } from '../support/temp';

const policy: QuotaPolicy = { period: 'none', allowance: 100_000 };
const CUTOFF = 10_000;

/** What a message went through before the prune: its status then, and when it last changed. */
type Ending = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'played' | 'failed, refunded' | 'failed, refund due';

describe.each(STORE_KINDS)('retention in the $name store', (kind) => {
  let place: StorePlace;
  let store: WorkspaceStore;

  beforeEach(() => {
    place = kind.place();
    store = place.open();
  });
  afterEach(async () => {
    await place.cleanup();
  });

  const accept = async (messages: NewMessage[], now: number, attachments: { messageId: string; data: Buffer; mimetype: string }[] = []) => {
    const outcome = await store.accept({ messages, attachments, units: messages.length, quota: policy, periodKey: 'all', attempt: attempt({ messageId: messages[0]!.id }), now });
    expect(outcome).toEqual({ accepted: true });
  };

  /** Takes the account's next message through to `ending`, each step at `at`. */
  const finish = async (accountId: string, ending: Ending, at: number): Promise<void> => {
    if (ending === 'queued') return;
    const message = (await store.outbox.claimNext(accountId, at))!;
    if (ending === 'sending') return;
    if (ending.startsWith('failed')) {
      await store.outbox.markFailed(message.id, 'not on WhatsApp', at, ending === 'failed, refunded' ? at : CUTOFF * 100);
      // Reading the quota applies the refunds that are due.
      await store.quota.state(policy, 'all', at);
      return;
    }
    if (ending === 'sent') {
      await store.outbox.markSent(message.id, message.jid!, at);
      return;
    }
    await store.outbox.markSent(message.id, message.jid!, at);
    await store.outbox.markReceipt(message.id, ending as ReceiptStatus, at);
  };

  /** One message on its own account, accepted at `acceptedAt` and taken to `ending` at `endedAt`. */
  const one = async (ending: Ending, acceptedAt: number, endedAt = acceptedAt + 100, extra: Partial<NewMessage> = {}): Promise<NewMessage> => {
    const message = textMessage({ accountId: `acc-${Math.random().toString(36).slice(2)}`, ...extra });
    await accept([message], acceptedAt);
    await finish(message.accountId, ending, endedAt);
    return message;
  };

  const kept = async (messages: readonly NewMessage[]) => {
    const found = await Promise.all(messages.map((message) => store.outbox.get(message.id)));
    return messages.filter((_, i) => found[i] !== undefined).map((message) => message.id);
  };

  it('removes exactly the final messages accepted and last changed before the cutoff, with their history and files', async () => {
    const gone = [
      await one('sent', 1000),
      await one('delivered', 1000),
      await one('read', 1000),
      await one('played', 1000),
      await one('failed, refunded', 1000),
    ];
    // Delivered by a receipt while still sending: its attached file was never dropped by markSent.
    const withFile = textMessage({ accountId: 'with-file', part: 'text' });
    await accept([withFile], 1000, [{ messageId: withFile.id, data: Buffer.from('%PDF-1.4'), mimetype: 'application/pdf' }]);
    const claimed = (await store.outbox.claimNext('with-file', 1100))!;
    await store.outbox.markReceipt(claimed.id, 'delivered', 1200);
    expect(await store.outbox.attachment(withFile.id)).toBeDefined();
    gone.push(withFile);
    const stay = [
      await one('queued', 1000),
      await one('sending', 1000),
      await one('failed, refund due', 1000),
      // Accepted before the cutoff, changed after it (a late receipt).
      await one('read', 1000, CUTOFF + 1),
      // Accepted at the cutoff: not before it.
      await one('delivered', CUTOFF),
      await one('delivered', CUTOFF + 5000),
    ];
    expect((await store.outbox.history(gone[1]!.id)).map((event) => event.status)).toEqual(['queued', 'sending', 'sent', 'delivered']);

    expect(await store.outbox.pruneFinal(CUTOFF, 100)).toBe(gone.length);
    expect(await kept([...gone, ...stay])).toEqual(stay.map((message) => message.id));
    for (const message of gone) {
      // The history is read from the message row and its events: nothing of either is left.
      expect(await store.outbox.history(message.id)).toEqual([]);
      expect(await store.outbox.attachment(message.id)).toBeUndefined();
    }
    expect((await store.outbox.history(stay[3]!.id)).map((event) => event.status)).toEqual(['queued', 'sending', 'sent', 'read']);
    expect(await store.outbox.pruneFinal(CUTOFF, 100)).toBe(0);
    expect(await store.outbox.countByStatus()).toEqual({ queued: 1, sending: 1, failed: 1, read: 1, delivered: 2 });
  });

  it('removes a failed message once its refund has been given back, not before', async () => {
    const failed = await one('failed, refund due', 1000);
    await one('delivered', CUTOFF + 1);
    expect(await store.outbox.pruneFinal(CUTOFF, 100)).toBe(0);
    expect((await store.quota.state(policy, 'all', CUTOFF * 100)).pendingRefunds).toBe(0);
    expect(await store.outbox.pruneFinal(CUTOFF, 100)).toBe(1);
    expect(await store.outbox.get(failed.id)).toBeUndefined();
  });

  it('removes a request whole: both parts, or neither while one is kept', async () => {
    const pair = (accountId: string) => {
      const text = textMessage({ accountId });
      const file = textMessage({ accountId, requestId: text.id, part: 'file', text: null, fileUrl: 'https://x.test/a.pdf', fileName: 'a.pdf' });
      return [text, file];
    };
    const done = pair('done');
    await accept(done, 1000);
    await finish('done', 'delivered', 1100);
    await finish('done', 'delivered', 1100);
    const half = pair('half');
    await accept(half, 1000);
    await finish('half', 'delivered', 1100);
    await finish('half', 'failed, refund due', 1100);
    await one('delivered', CUTOFF + 1);
    expect(await store.outbox.pruneFinal(CUTOFF, 100)).toBe(2);
    expect(await kept([...done, ...half])).toEqual(half.map((message) => message.id));
    expect((await store.outbox.byRequest(half[0]!.id)).map((message) => message.status)).toEqual(['delivered', 'failed']);
  });

  it('removes at most `limit` a call, oldest first, and stops when none is left', async () => {
    const old = [];
    for (let i = 0; i < 7; i++) old.push(await one('delivered', 1000 + i));
    const newest = await one('delivered', CUTOFF + 1);
    expect(await store.outbox.pruneFinal(CUTOFF, 3)).toBe(3);
    expect(await kept(old)).toEqual(old.slice(3).map((message) => message.id));
    expect(await store.outbox.pruneFinal(CUTOFF, 3)).toBe(3);
    expect(await store.outbox.pruneFinal(CUTOFF, 3)).toBe(1);
    expect(await store.outbox.pruneFinal(CUTOFF, 3)).toBe(0);
    expect(await kept([...old, newest])).toEqual([newest.id]);
  });

  it('keeps the newest message, so that a new accept gets a seq above every one handed out', async () => {
    const first = await one('delivered', 1000);
    const second = await one('delivered', 1000);
    const newest = await one('delivered', 1000);
    const seqs = await Promise.all([first, second, newest].map(async (message) => (await store.outbox.get(message.id))!.seq));
    expect(await store.outbox.pruneFinal(CUTOFF, 100)).toBe(2);
    expect(await kept([first, second, newest])).toEqual([newest.id]);
    expect(await store.feed.head()).toBe(seqs[2]);
    const next = await one('delivered', 2000);
    const nextSeq = (await store.outbox.get(next.id))!.seq;
    expect(nextSeq).toBeGreaterThan(Math.max(...seqs));
    // The kept one goes once it is no longer the newest; the one after it is handed a greater seq still.
    expect(await store.outbox.pruneFinal(CUTOFF, 100)).toBe(1);
    const after = await one('queued', 3000);
    expect((await store.outbox.get(after.id))!.seq).toBeGreaterThan(nextSeq);
    // A flow reading the feed from before the prune is handed what is left, in order.
    const fed = await store.feed.after(0, 10);
    expect(fed.position).toBe((await store.outbox.get(after.id))!.seq);
  });

  it('leaves the attempt log its last 100', async () => {
    const messages = [];
    for (let i = 0; i < ATTEMPT_LOG_SIZE + 20; i++) messages.push(await one('delivered', 1000 + i));
    const before = (await store.attempts.list(ATTEMPT_LOG_SIZE)).map((entry) => entry.messageId);
    expect(before).toHaveLength(ATTEMPT_LOG_SIZE);
    expect(await store.outbox.pruneFinal(CUTOFF, 1000)).toBe(ATTEMPT_LOG_SIZE + 19);
    expect((await store.attempts.list(ATTEMPT_LOG_SIZE)).map((entry) => entry.messageId)).toEqual(before);
    expect(before).toEqual(messages.slice(-ATTEMPT_LOG_SIZE).reverse().map((message) => message.id));
  });

  it('runs rounds that prune outgoing and received messages in batches, and none when everything is kept', async () => {
    for (let i = 0; i < 5; i++) await one('delivered', 1000 + i);
    await one('queued', 1000);
    await one('delivered', CUTOFF + 1);
    const received = (id: string) => ({ accountId: 'acc', id, chatJid: 'c@s.whatsapp.net', at: 1, body: '{}', reference: '{}' });
    await store.inbound.record([received('r1'), received('r2'), received('r3')], 1000);
    await store.inbound.record([received('r4')], CUTOFF + 1);
    const errors: unknown[] = [];
    const deps = { store, now: () => CUTOFF + 30 * 86_400_000, reportError: (error: unknown) => errors.push(error) };

    const keepAll = new Retention(deps, { keepMs: 0, batch: 2, pauseFactor: 0 });
    expect(await keepAll.round()).toEqual({ messages: 0, received: 0, batches: 0, freePages: 0 });
    expect(await store.outbox.countByStatus()).toEqual({ delivered: 6, queued: 1 });

    const retention = new Retention(deps, { keepMs: 30 * 86_400_000, batch: 2, pauseFactor: 0 });
    // 5 messages in batches of 2: 2, 2, 1; 3 received: 2, 1.
    expect(await retention.round()).toEqual({ messages: 5, received: 3, batches: 5, freePages: 0 });
    expect(await store.outbox.countByStatus()).toEqual({ delivered: 1, queued: 1 });
    expect((await store.inbound.after(0, 10)).map((message) => message.id)).toEqual(['r4']);
    expect(await retention.round()).toEqual({ messages: 0, received: 0, batches: 0, freePages: 0 });
    await retention.close();
    expect(errors).toEqual([]);
  });
});

describe('retention in a workspace', () => {
  it('runs its rounds on its own, from the setting, and stops when the workspace closes', async () => {
    const dir = tempDir();
    const store = new SqliteStore({ path: join(dir.path, 'w.sqlite') });
    const message = textMessage();
    await store.accept({ messages: [message], units: 1, quota: policy, periodKey: 'all', attempt: attempt({ messageId: message.id }), now: 1000 });
    const claimed = (await store.outbox.claimNext('acc', 1000))!;
    await store.outbox.markSent(claimed.id, claimed.jid!, 1000);
    await store.inbound.record([{ accountId: 'acc', id: 'in-1', chatJid: 'c@s.whatsapp.net', at: 1, body: '{}', reference: '{}' }], 1000);
    // The newest message stays (see pruneFinal): a later one makes the first removable.
    const later = textMessage();
    await store.accept({ messages: [later], units: 1, quota: policy, periodKey: 'all', attempt: attempt({ messageId: later.id }), now: 5000 });
    const workspace = await Workspace.open({ store, now: () => 3 * 86_400_000, retention: { keepMs: 86_400_000, firstAfterMs: 1, everyMs: 20 } });
    try {
      await until(async () => (await store.inbound.count()) === 0 && (await store.outbox.get(message.id)) === undefined);
      expect((await store.outbox.get(later.id))?.status).toBe('queued');
    } finally {
      await workspace.close();
      dir.cleanup();
    }
  });
});

describe('a retention round', () => {
  it('pauses after each batch in proportion to it, and a close ends it after the batch in progress', async () => {
    const dir = tempDir();
    const store = new SqliteStore({ path: join(dir.path, 'w.sqlite') });
    try {
      const messages = Array.from({ length: 6 }, () => textMessage());
      for (const message of messages) {
        await store.accept({ messages: [message], units: 1, quota: policy, periodKey: 'all', attempt: attempt({ messageId: message.id }), now: 1000 });
        const claimed = (await store.outbox.claimNext('acc', 1000))!;
        await store.outbox.markSent(claimed.id, claimed.jid!, 1000);
      }
      const batches: number[] = [];
      const pruneFinal = store.outbox.pruneFinal.bind(store.outbox);
      store.outbox.pruneFinal = async (before, limit) => {
        const removed = await pruneFinal(before, limit);
        batches.push(removed);
        return removed;
      };
      // Pauses of at least 5 s: the round is still in its first pause when closed.
      const retention = new Retention({ store, now: () => CUTOFF, reportError: (error) => { throw error; } }, { keepMs: 1, batch: 2, pauseFactor: 1e6 });
      const round = retention.round();
      await until(() => batches.length === 1);
      const closing = Date.now();
      await retention.close();
      expect(await round).toEqual({ messages: 2, received: 0, batches: 1, freePages: 0 });
      expect(Date.now() - closing).toBeLessThan(1000);
      expect(batches).toEqual([2]);
      // A closed retention runs no more rounds.
      expect(await retention.round()).toEqual({ messages: 0, received: 0, batches: 0, freePages: 0 });
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
});

describe('retention gives the space back to the SQLite file', () => {
  const fileBytes = (path: string) => statSync(path).size;

  /** 4,000 delivered messages of ~2 KB each, accepted at `at`, and one newer. */
  const fill = async (store: SqliteStore, path: string, at: number) => {
    for (let i = 0; i < 40; i++) {
      const messages = Array.from({ length: 100 }, () => textMessage({ text: 'x'.repeat(2000) }));
      await Promise.all(
        messages.map((message) => store.accept({ messages: [message], units: 1, quota: policy, periodKey: 'all', attempt: attempt({ messageId: message.id }), now: at })),
      );
    }
    const newest = textMessage();
    await store.accept({ messages: [newest], units: 1, quota: policy, periodKey: 'all', attempt: attempt({ messageId: newest.id }), now: CUTOFF + 1 });
    await store.outbox.countWaiting();
    const db = new DatabaseSync(path);
    db.exec(`UPDATE messages SET status = 'delivered', sent_at = ${at}, updated_at = ${at} WHERE created_at < ${CUTOFF}`);
    db.close();
  };

  /** Prunes everything before the cutoff, gives the space back, and checkpoints, as a round and the WAL do. */
  const pruneAndReclaim = async (store: SqliteStore, path: string) => {
    const retention = new Retention({ store, now: () => CUTOFF + 1000, reportError: (error) => { throw error; } }, { keepMs: 1000, pauseFactor: 0 });
    const round = await retention.round();
    const db = new DatabaseSync(path);
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const autoVacuum = (db.prepare('PRAGMA auto_vacuum').get() as { auto_vacuum: number }).auto_vacuum;
    db.close();
    return { round, autoVacuum };
  };

  const checkpoint = (path: string) => {
    const db = new DatabaseSync(path);
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    db.close();
  };

  it('a new file: the prune frees pages and the incremental vacuum gives them back', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'w.sqlite');
    const store = new SqliteStore({ path });
    try {
      await fill(store, path, 1000);
      checkpoint(path);
      const full = fileBytes(path);
      expect(full).toBeGreaterThan(8_000_000);
      const { round, autoVacuum } = await pruneAndReclaim(store, path);
      expect(round).toMatchObject({ messages: 4000, freePages: 0 });
      expect(autoVacuum).toBe(2);
      expect(fileBytes(path)).toBeLessThan(full / 10);
    } finally {
      await store.close();
      dir.cleanup();
    }
  });

  it('a file made before incremental vacuum: converted once, by one VACUUM after the prune', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'w.sqlite');
    // An older store: its first page written without auto_vacuum.
    const old = new DatabaseSync(path);
    old.exec('PRAGMA journal_mode = WAL');
    old.close();
    const store = new SqliteStore({ path });
    try {
      await fill(store, path, 1000);
      checkpoint(path);
      const full = fileBytes(path);
      const db = new DatabaseSync(path);
      expect((db.prepare('PRAGMA auto_vacuum').get() as { auto_vacuum: number }).auto_vacuum).toBe(0);
      db.close();
      const { round, autoVacuum } = await pruneAndReclaim(store, path);
      expect(round).toMatchObject({ messages: 4000, freePages: 0 });
      expect(autoVacuum).toBe(2);
      expect(fileBytes(path)).toBeLessThan(full / 10);
      // What was kept is still there, and the store goes on accepting.
      expect(await store.outbox.countByStatus()).toEqual({ queued: 1 });
      const next = textMessage();
      expect(await store.accept({ messages: [next], units: 1, quota: policy, periodKey: 'all', attempt: attempt({ messageId: next.id }), now: CUTOFF + 2 })).toEqual({ accepted: true });
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
});
