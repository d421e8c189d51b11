import { Client } from 'pg';
import { PostgresStore } from '../../shared/store/postgres';
import { schemaNameFor } from '../../shared/store/postgres/schema-name';
import type { QuotaPolicy } from '../../shared/store/types';
import { attempt, textMessage } from '../support/messages';
import { TEST_PG_URL, throwawaySchema, type ThrowawaySchema } from '../support/postgres';

/** Rules of several processes on one schema, and of a server that can go away: PostgreSQL's alone. */
describe('PostgresStore with several processes', () => {
  let schema: ThrowawaySchema;

  beforeEach(() => {
    schema = throwawaySchema();
  });
  afterEach(async () => {
    await schema.drop();
  });

  const acceptOne = (store: PostgresStore, quota: QuotaPolicy, now = 1000) => {
    const message = textMessage();
    return store.accept({ messages: [message], units: 1, quota, periodKey: 'all', attempt: attempt({ messageId: message.id }), now }).then((outcome) => ({ outcome, message }));
  };

  it('never lets several stores on one schema overspend, however their commits interleave', async () => {
    const stores = Array.from({ length: 4 }, () => schema.store());
    const quota: QuotaPolicy = { period: 'none', allowance: 37 };
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => acceptOne(stores[i % stores.length]!, quota)));
    expect(results.filter(({ outcome }) => outcome.accepted)).toHaveLength(37);
    expect(results.filter(({ outcome }) => !outcome.accepted).every(({ outcome }) => !outcome.accepted && outcome.available === 0)).toBe(true);
    expect(await stores[0]!.outbox.countByStatus()).toEqual({ queued: 37 });
    expect(await stores[1]!.quota.state(quota, 'all', 1000)).toMatchObject({ used: 37, available: 0 });
  });

  it('hands a feed reader every request accepted by several stores at once, none skipped and none twice', async () => {
    const stores = [schema.store(), schema.store(), schema.store()];
    const reader = schema.store();
    const quota: QuotaPolicy = { period: 'none', allowance: 1000 };
    const seen: string[] = [];
    let position = 0;
    let accepting = true;
    const tail = (async () => {
      for (;;) {
        const stillAccepting = accepting;
        const read = await reader.feed.after(position, 50);
        seen.push(...read.requests.map((request) => request.requestId));
        position = read.position;
        if (!stillAccepting && read.requests.length === 0) return;
      }
    })();
    const accepted: string[] = [];
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        Array.from({ length: 15 }, (_, i) => {
          const message = textMessage({ feed: '{}' });
          return stores[i % stores.length]!
            .accept({ messages: [message], units: 1, quota, periodKey: 'all', attempt: attempt({ messageId: message.id }), now: 1000 })
            .then(() => message.id);
        }),
      );
      accepted.push(...results);
    }
    accepting = false;
    await tail;
    expect(seen).toHaveLength(accepted.length);
    expect(new Set(seen)).toEqual(new Set(accepted));
  });

  it('never hands one message to two stores racing claimNext', async () => {
    const stores = [schema.store(), schema.store(), schema.store()];
    const quota: QuotaPolicy = { period: 'none', allowance: 100 };
    const messages = Array.from({ length: 60 }, () => textMessage());
    await stores[0]!.accept({ messages, units: messages.length, quota, periodKey: 'all', attempt: attempt(), now: 1000 });
    const claimed = await Promise.all(
      stores.map(async (store) => {
        const mine: string[] = [];
        for (let next = await store.outbox.claimNext('acc', 1000); next; next = await store.outbox.claimNext('acc', 1000)) mine.push(next.id);
        return mine;
      }),
    );
    const all = claimed.flat();
    expect(all).toHaveLength(messages.length);
    expect(new Set(all)).toEqual(new Set(messages.map((message) => message.id)));
    expect(await stores[1]!.outbox.countByStatus()).toEqual({ sending: messages.length });
    const history = await stores[2]!.outbox.history(messages[0]!.id);
    expect(history.filter((event) => event.status === 'sending')).toHaveLength(1);
  });

  it('applies a due refund once when several stores read the quota at once', async () => {
    const [first, second] = [schema.store(), schema.store()];
    const quota: QuotaPolicy = { period: 'none', allowance: 10 };
    const messages = Array.from({ length: 6 }, () => textMessage());
    await first.accept({ messages, units: 6, quota, periodKey: 'all', attempt: attempt(), now: 1000 });
    for (const message of messages.slice(0, 4)) {
      await first.outbox.claimNext('acc', 1000);
      await first.outbox.markFailed(message.id, 'no', 1000, 2000);
    }
    const states = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? first : second).quota.state(quota, 'all', 2000)));
    expect(states.every((state) => state.used === 2 && state.pendingRefunds === 0)).toBe(true);
    expect(await second.quota.state(quota, 'all', 3000)).toMatchObject({ used: 2, available: 8 });
  });

  it('lets exactly one of several stores take an account at the same instant', async () => {
    const stores = Array.from({ length: 5 }, () => schema.store());
    const taken = await Promise.all(stores.map((store, i) => store.ownership.acquire('acc', `owner ${i}`, 1000, 60_000)));
    expect(taken.filter(Boolean)).toHaveLength(1);
    const winner = `owner ${taken.indexOf(true)}`;
    expect(await stores[0]!.ownership.ownerOf('acc', 1000)).toBe(winner);
    // The others cannot renew what they never held; once it runs out, another takes it.
    expect(await stores[(taken.indexOf(true) + 1) % 5]!.ownership.renew('acc', 'owner x', 1000, 60_000)).toBe(false);
    expect(await stores[0]!.ownership.acquire('acc', 'late', 61_000, 60_000)).toBe(true);
  });

  it('creates and migrates a new schema once when several stores open it at once', async () => {
    const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresStore.open(schema.options())));
    await Promise.all(stores.map((store) => store.close()));
    const [{ version }] = (await schema.admin<{ version: number }>(`SELECT version FROM "${schema.name}".schema_version`)) as [{ version: number }];
    expect(version).toBe(1);
    const reopened = schema.store();
    await expect(reopened.webhook.get('token', 1)).resolves.toMatchObject({ token: 'token' });
  });

  it('announces each append on the schema channel with only the new head, at commit', async () => {
    const store = schema.store();
    await store.ready();
    const listener = new Client({ connectionString: TEST_PG_URL });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (notification) => heard.push(`${notification.channel} ${notification.payload}`));
      await listener.query(`LISTEN "${store.changes.channel}"`);
      await store.changes.append([{ kind: 'account', accountId: 'a', state: 'open', detail: null, at: 1 }]);
      await store.changes.append([
        { kind: 'account', accountId: 'b', state: 'open', detail: null, at: 2 },
        { kind: 'account', accountId: 'c', state: null, detail: null, at: 3 },
      ]);
      await listener.query('SELECT 1');
      expect(heard).toEqual([`${schema.name}_changes 1`, `${schema.name}_changes 3`]);
    } finally {
      await listener.end();
    }
  });

  it('carries on after the server drops its connections, telling onPoolError, without crashing', async () => {
    const applicationName = `wahook-test-${schema.name}`;
    const poolErrors: Error[] = [];
    const store = schema.store({ connection: { connectionString: TEST_PG_URL, application_name: applicationName }, onPoolError: (error) => poolErrors.push(error) });
    const quota: QuotaPolicy = { period: 'none', allowance: 10 };
    expect((await acceptOne(store, quota)).outcome).toEqual({ accepted: true });
    const dropped = await schema.admin<{ pid: number }>(
      'SELECT pg_terminate_backend(pid) AS dropped FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    expect(dropped.length).toBeGreaterThan(0);
    for (let i = 0; i < 50 && poolErrors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(poolErrors.length).toBeGreaterThan(0);
    expect((await acceptOne(store, quota)).outcome).toEqual({ accepted: true });
    expect(await store.outbox.countByStatus()).toEqual({ queued: 2 });
  });

  it('rejects its operations when the server cannot be reached, and closes cleanly', async () => {
    const options = { connection: { connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 2000 }, schema: schema.name };
    await expect(PostgresStore.open(options)).rejects.toThrow(/ECONNREFUSED|connect/);
    const store = new PostgresStore(options);
    await expect(store.outbox.get('3EB0')).rejects.toThrow();
    await expect(store.accept({ messages: [textMessage()], units: 1, quota: { period: 'none', allowance: 1 }, periodKey: 'all', attempt: attempt(), now: 1 })).rejects.toThrow();
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe('the schema a PostgresStore uses', () => {
  it('is named after the workspace, with a hash when the name is not plain, or as given', () => {
    expect(schemaNameFor({})).toEqual({ name: 'wahook_default', sql: '"wahook_default"' });
    expect(schemaNameFor({ workspace: 'sales' }).name).toBe('wahook_sales');
    const team = schemaNameFor({ workspace: 'Sales Team' }).name;
    expect(team).toMatch(/^wahook_sales_team_[0-9a-f]{8}$/);
    expect(schemaNameFor({ workspace: 'sales team' }).name).not.toBe(team);
    expect(schemaNameFor({ workspace: 'x'.repeat(200) }).name.length).toBeLessThanOrEqual(48);
    expect(schemaNameFor({ schema: 'tenant_7', workspace: 'ignored' }).name).toBe('tenant_7');
  });

  it('refuses a name that is not plain, before any SQL is sent', () => {
    for (const schema of ['Public', 'a"; DROP SCHEMA public; --', '7days', '', 'x'.repeat(49)]) {
      expect(() => new PostgresStore({ connection: TEST_PG_URL, schema })).toThrow(/not a plain name/);
    }
  });
});
