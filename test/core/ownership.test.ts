import { OwnershipKeeper, OWNERSHIP_RENEW_MS, OWNERSHIP_TTL_MS } from '../../shared/accounts/ownership-keeper';
import type { OwnershipRepository, WorkspaceStore } from '../../shared/store/types';
import { Workspace } from '../../shared/workspace/workspace';
import { attempt, textMessage } from '../support/messages';
import { STORE_KINDS, type StorePlace } from '../support/store-kinds';

describe.each(STORE_KINDS)('account ownership in the $name store', (kind) => {
  let place: StorePlace;
  let store: WorkspaceStore;

  beforeEach(() => {
    place = kind.place();
    store = place.open();
  });

  afterEach(async () => {
    await place.cleanup();
  });

  it('lets one owner hold an account at a time, until it releases or its hold runs out', async () => {
    const { ownership } = store;
    expect(await ownership.acquire('acc', 'a', 1000, 100)).toBe(true);
    expect(await ownership.acquire('acc', 'b', 1050, 100)).toBe(false);
    expect(await ownership.renew('acc', 'b', 1050, 100)).toBe(false);
    expect(await ownership.renew('acc', 'a', 1050, 100)).toBe(true);
    expect(await ownership.ownerOf('acc', 1149)).toBe('a');
    expect(await ownership.acquire('acc', 'b', 1149, 100)).toBe(false);
    // Not renewed in time: the hold is gone, and the old owner cannot renew it back.
    expect(await ownership.ownerOf('acc', 1150)).toBeUndefined();
    expect(await ownership.renew('acc', 'a', 1150, 100)).toBe(false);
    expect(await ownership.acquire('acc', 'b', 1150, 100)).toBe(true);
    await ownership.release('acc', 'a');
    expect(await ownership.ownerOf('acc', 1160)).toBe('b');
    await ownership.release('acc', 'b');
    expect(await ownership.acquire('acc', 'a', 1160, 100)).toBe(true);
  });

  it('claims a queued message only for the owner holding its account', async () => {
    const message = { ...textMessage(), accountId: 'acc' };
    await store.accept({ messages: [message], units: 1, quota: { period: 'none', allowance: 10 }, periodKey: 'all', attempt: attempt(), now: 1000 });
    const now = Date.now();
    await store.ownership.acquire('acc', 'a', now, 60_000);
    expect(await store.outbox.claimNext('acc', now, 'b')).toBeUndefined();
    expect((await store.outbox.get(message.id))?.status).toBe('queued');
    expect((await store.outbox.claimNext('acc', now, 'a'))?.id).toBe(message.id);
  });

  it('recovers the in-flight messages of one account without touching another', async () => {
    const mine = { ...textMessage(), accountId: 'mine' };
    const theirs = { ...textMessage(), accountId: 'theirs' };
    await store.accept({ messages: [mine, theirs], units: 2, quota: { period: 'none', allowance: 10 }, periodKey: 'all', attempt: attempt(), now: 1000 });
    await store.outbox.claimNext('mine', Date.now());
    await store.outbox.claimNext('theirs', Date.now());
    expect(await store.outbox.recoverInFlight(Date.now(), 'mine')).toBe(1);
    expect((await store.outbox.get(mine.id))?.status).toBe('queued');
    expect((await store.outbox.get(theirs.id))?.status).toBe('sending');
  });

  it('recovers an account\'s in-flight messages for an owner only while that owner holds it', async () => {
    const message = { ...textMessage(), accountId: 'acc' };
    await store.accept({ messages: [message], units: 1, quota: { period: 'none', allowance: 10 }, periodKey: 'all', attempt: attempt(), now: 1000 });
    const now = Date.now();
    await store.ownership.acquire('acc', 'b', now, 60_000);
    await store.outbox.claimNext('acc', now, 'b');
    // 'a' lost its hold to 'b': the message in flight is b's.
    expect(await store.outbox.recoverInFlight(now, 'acc', 'a')).toBe(0);
    expect((await store.outbox.get(message.id))?.status).toBe('sending');
    // And once b's hold ran out, not b's either.
    expect(await store.outbox.recoverInFlight(now + 60_000, 'acc', 'b')).toBe(0);
    expect(await store.outbox.recoverInFlight(now, 'acc', 'b')).toBe(1);
    expect((await store.outbox.get(message.id))?.status).toBe('queued');
  });

  it('is held by an open workspace for each account it connects, and let go when it closes', async () => {
    // The workspace closes its store: holds are read through one that stays open (SQLite's are in memory).
    const observer = kind.ownershipAcrossStores ? place.open() : store;
    const workspace = await Workspace.open({ store });
    const account = await workspace.addDryRunAccount('15105550101');
    const owner = await observer.ownership.ownerOf(account.id, Date.now());
    expect(owner).toMatch(new RegExp(` pid ${process.pid} [0-9a-f]{12}$`));
    expect(await observer.ownership.acquire(account.id, 'another process', Date.now(), 1000)).toBe(false);
    await workspace.close();
    expect(await observer.ownership.ownerOf(account.id, Date.now())).toBeUndefined();
  });

  it('connects no account that another owner holds, and sends nothing for it', async () => {
    const first = await Workspace.open({ store });
    const account = await first.addDryRunAccount('15105550102');
    await first.close();
    const reopened = place.open();
    await reopened.ownership.acquire(account.id, 'another process', Date.now(), 60_000);
    const second = await Workspace.open({ store: reopened });
    expect(second.connection(account.id)?.state).toBeNull();
    await second.close();
  });
});

describe('OwnershipKeeper', () => {
  const fakeOwnership = (renew: OwnershipRepository['renew']): OwnershipRepository => ({
    acquire: async () => true,
    renew,
    release: async () => undefined,
    ownerOf: async () => 'me',
  });

  it('says an account is lost when the store refuses the renewal', async () => {
    const lost: string[] = [];
    const keeper = new OwnershipKeeper({ ownership: fakeOwnership(async () => false), owner: 'me', now: () => 0, lost: (id) => lost.push(id), gained: () => undefined, reportError: () => undefined });
    await keeper.acquire('acc');
    await keeper.renewAll();
    expect(lost).toEqual(['acc']);
    await keeper.renewAll();
    expect(lost).toEqual(['acc']);
    await keeper.close();
  });

  it('keeps sending through a store outage only while the hold surely lasts', async () => {
    let now = 0;
    const lost: string[] = [];
    const errors: unknown[] = [];
    const keeper = new OwnershipKeeper({
      ownership: fakeOwnership(async () => {
        throw new Error('connection refused');
      }),
      owner: 'me',
      now: () => now,
      lost: (id) => lost.push(id),
      gained: () => undefined,
      reportError: (error) => errors.push(error),
    });
    await keeper.acquire('acc');
    now = OWNERSHIP_TTL_MS - OWNERSHIP_RENEW_MS - 1;
    await keeper.renewAll();
    expect(lost).toEqual([]);
    now = OWNERSHIP_TTL_MS - OWNERSHIP_RENEW_MS;
    await keeper.renewAll();
    expect(lost).toEqual(['acc']);
    expect(errors).toHaveLength(2);
    await keeper.close();
  });
});

describe('OwnershipKeeper waiting for an account held elsewhere', () => {
  it('takes it on a tick once the store grants it, and says so once', async () => {
    let free = false;
    const gained: string[] = [];
    const keeper = new OwnershipKeeper({
      ownership: { acquire: async () => free, renew: async () => true, release: async () => undefined, ownerOf: async () => undefined },
      owner: 'me',
      now: () => 0,
      lost: () => undefined,
      gained: (id) => gained.push(id),
      reportError: () => undefined,
    });
    expect(await keeper.acquire('acc')).toBe(false);
    keeper.want('acc');
    await keeper.tick();
    expect(gained).toEqual([]);
    free = true;
    await keeper.tick();
    await keeper.tick();
    expect(gained).toEqual(['acc']);
    expect(keeper.holds('acc')).toBe(true);
    await keeper.close();
  });
});
