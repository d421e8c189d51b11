import { join } from 'node:path';
import type { OutboxMessage } from '../../shared/model';
import { LoggedOutExpiry } from '../../shared/dispatch/logged-out-expiry';
import { SqliteStore } from '../../shared/store/sqlite';
import { attempt, textMessage } from '../support/messages';
import { tempDir } from '../support/temp';
import { FakeClock } from './support/fake-clock';

const HOUR = 3_600_000;

describe('LoggedOutExpiry on the SQLite outbox', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let clock: FakeClock;
  let expiry: LoggedOutExpiry;
  let failed: { ids: string[]; reason: string }[];
  const errors: unknown[] = [];

  beforeEach(() => {
    dir = tempDir();
    store = new SqliteStore({ path: join(dir.path, 'expiry.sqlite') });
    clock = new FakeClock();
    failed = [];
    errors.length = 0;
    expiry = new LoggedOutExpiry({
      outbox: store.outbox,
      ttlMs: 2 * HOUR,
      refundDelayMs: 0,
      now: () => clock.now(),
      timers: clock,
      onFailed: (messages: readonly OutboxMessage[], reason) => failed.push({ ids: messages.map((m) => m.id), reason }),
      onError: (error) => errors.push(error),
    });
  });
  afterEach(async () => {
    expiry.close();
    await store.close();
    dir.cleanup();
    expect(errors).toEqual([]);
  });

  const queue = async (accountId = 'acc') => {
    const message = textMessage({ accountId });
    const outcome = await store.accept({ messages: [message], units: 1, quota: { period: 'none', allowance: 10 }, periodKey: 'all', attempt: attempt(), now: clock.now() });
    expect(outcome.accepted).toBe(true);
    return message.id;
  };

  it('fails each queued message TTL after the later of the logout and its acceptance, refunding it', async () => {
    const before = await queue();
    const other = await queue('other');
    expiry.watch('acc', clock.now());
    await clock.advance(HOUR);
    const after = await queue();
    expiry.queued('acc', clock.now());
    await clock.advance(HOUR - 1);
    expect(failed).toEqual([]);
    await clock.advance(1);
    expect(failed).toEqual([{ ids: [before], reason: 'WhatsApp logged this account out and the phone was not linked again within 2 h' }]);
    expect((await store.outbox.get(before))?.status).toBe('failed');
    expect((await store.outbox.history(before)).at(-1)).toMatchObject({ status: 'failed', detail: 'WhatsApp logged this account out and the phone was not linked again within 2 h' });
    expect((await store.outbox.get(after))?.status).toBe('queued');
    await clock.advance(HOUR);
    expect(failed.map((f) => f.ids)).toEqual([[before], [after]]);
    // Another account's queue is not touched, and every failed unit came back.
    expect((await store.outbox.get(other))?.status).toBe('queued');
    expect((await store.quota.state({ period: 'none', allowance: 10 }, 'all', clock.now())).used).toBe(1);
  });

  it('keeps watching an empty queue: a message accepted later still expires', async () => {
    expiry.watch('acc', clock.now());
    await clock.advance(3 * HOUR);
    expect(failed).toEqual([]);
    const late = await queue();
    expiry.queued('acc', clock.now());
    await clock.advance(2 * HOUR);
    expect(failed.map((f) => f.ids)).toEqual([[late]]);
  });

  it('a relink stops the countdown', async () => {
    const id = await queue();
    expiry.watch('acc', clock.now());
    await clock.advance(HOUR);
    expiry.unwatch('acc');
    expiry.queued('acc', clock.now());
    await clock.advance(10 * HOUR);
    expect(failed).toEqual([]);
    expect((await store.outbox.get(id))?.status).toBe('queued');
    expect(clock.pendingDelays()).toEqual([]);
  });
});
