import { Client } from 'pg';
import type { QueryConfig } from 'pg';
import { PostgresStore } from '../../shared/store/postgres';
import { schemaNameFor } from '../../shared/store/postgres/schema-name';
import { MIGRATIONS } from '../../shared/store/postgres/schema';
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
    expect(version).toBe(MIGRATIONS('s').length);
    const reopened = schema.store();
    await expect(reopened.webhook.get('token', 1)).resolves.toMatchObject({ token: 'token' });
  });

  it('upgrades a schema of the first version in place: its rows stay, link pages and received messages are added', async () => {
    await schema.admin(`CREATE SCHEMA "${schema.name}"`);
    await schema.admin(MIGRATIONS(`"${schema.name}"`)[0]!);
    await schema.admin(`CREATE TABLE "${schema.name}".schema_version (id integer PRIMARY KEY, version integer NOT NULL)`);
    await schema.admin(`INSERT INTO "${schema.name}".schema_version VALUES (1, 1)`);
    await schema.admin(`INSERT INTO "${schema.name}".webhook VALUES (1, 'kept-token', true, 5)`);
    const store = schema.store();
    await expect(store.webhook.get('other', 1)).resolves.toMatchObject({ token: 'kept-token' });
    await store.linkPages.put('k', 10, '{}', 20);
    expect(await store.linkPages.get('k')).toEqual({ key: 'k', expiresAt: 10, viewKey: null, state: '{}', retired: null, forgetAt: 20 });
    const inbound = { accountId: 'acc', id: 'in-1', chatJid: 'c@s.whatsapp.net', at: 1, body: '{}', reference: '{}' };
    expect(await store.inbound.record([inbound], 30)).toEqual([{ ...inbound, seq: 1, receivedAt: 30 }]);
    const [{ version }] = (await schema.admin<{ version: number }>(`SELECT version FROM "${schema.name}".schema_version`)) as [{ version: number }];
    expect(version).toBe(MIGRATIONS('s').length);
  });

  it('link pages: one view key over every store, retired pages keep their reason until forgotten', async () => {
    const [first, second] = [schema.store(), schema.store()];
    await first.linkPages.put('k', 1000, '{"status":"waiting"}', 5000);
    expect(await Promise.all([first.linkPages.claimView('k', 'v1'), second.linkPages.claimView('k', 'v2')])).toEqual(expect.arrayContaining([true, false]));
    await second.linkPages.retire('k', 'used', 9000);
    await first.linkPages.retire('k', 'expired', 1);
    await first.linkPages.put('k', 1000, '{"status":"linked"}', 5000);
    expect(await second.linkPages.get('k')).toMatchObject({ retired: 'used', forgetAt: 9000, state: '{"status":"waiting"}' });
    await first.linkPages.prune(8999);
    expect(await second.linkPages.get('k')).toBeDefined();
    await first.linkPages.prune(9000);
    expect(await second.linkPages.get('k')).toBeUndefined();
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

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Index Cond'?: string;
  readonly Filter?: string;
  readonly Plans?: readonly PlanNode[];
}

/** What a plan needs to know of an index of messages: whether it holds only some rows, and its first column. */
interface IndexShape {
  readonly partial: boolean;
  readonly leading: string;
}

/**
 * Whether a plan reads every row of messages: a sequential scan, or a full index (one holding every
 * message) searched without a condition on its first column. A partial index (waiting, sent, with a
 * provider id) read whole is no scan of the history, nor is an index read in order under a Limit with
 * no filter to skip rows (max(seq) reads one row).
 */
function readsEveryMessage(node: PlanNode, indexes: ReadonlyMap<string, IndexShape>, underLimit = false): boolean {
  const index = node['Index Name'] === undefined ? undefined : indexes.get(node['Index Name']);
  const whole =
    (node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'messages') ||
    (index !== undefined && !index.partial && !(underLimit && node.Filter === undefined) && !new RegExp(`\\(${index.leading} [=<>]`).test(node['Index Cond'] ?? ''));
  return whole || (node.Plans ?? []).some((child) => readsEveryMessage(child, indexes, node['Node Type'] === 'Limit'));
}

describe('PostgresStore query plans', () => {
  it('reads messages at run time through an index, never by a scan of every message queued', async () => {
    const schema = throwawaySchema();
    const statements = new Map<string, readonly unknown[]>();
    const query = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const [text, values] = args as [string | QueryConfig, unknown[] | undefined];
      const sql = typeof text === 'string' ? text : text.text;
      // Migrations (DDL, which may open with a comment) and inserts are not reads.
      const statement = sql.replace(/^(\s*--[^\n]*\n)+/, '');
      if (/\.messages\b/.test(sql) && !/^\s*(INSERT|CREATE|ALTER)/i.test(statement)) statements.set(sql, values ?? []);
      return (query as (...rest: unknown[]) => unknown).apply(this, args);
    } as never);
    try {
      // Every operation that reads messages, once.
      const store = schema.store();
      const quota: QuotaPolicy = { period: 'none', allowance: 10 };
      const text = textMessage({ feed: '{}' });
      const file = textMessage({ requestId: text.id, part: 'file', text: null, fileUrl: 'https://x.test/a.png', fileName: 'a.png' });
      const later = [textMessage(), textMessage(), textMessage()];
      await store.accept({ messages: [text, file], units: 2, quota, periodKey: 'all', attempt: attempt(), now: 1000 });
      await store.accept({ messages: later, units: 3, quota, periodKey: 'all', attempt: attempt(), now: 1000 });
      await store.outbox.claimNext('acc', 1000, 'nobody');
      await store.outbox.claimNext('acc', 1000);
      await store.outbox.requeue(text.id, 2000, 'later', 1000);
      const claimed = (await store.outbox.claimNext('acc', 1000))!;
      await store.outbox.markSent(claimed.id, claimed.jid!, 1001, 'wamid.1');
      await store.outbox.markSent(claimed.id, claimed.jid!, 1001, 'wamid.1');
      await store.outbox.idForProviderId('wamid.1');
      await store.outbox.markReceipt(claimed.id, 'read', 1002);
      await store.outbox.markFailed(claimed.id, 'no', 1003, 1003);
      await store.outbox.claimNext('acc', 1000);
      await store.outbox.recoverInFlight(1004);
      await store.outbox.recoverInFlight(1004, 'acc');
      await store.outbox.nextDueAt('acc');
      await store.outbox.get(text.id);
      await store.outbox.attachment(file.id);
      await store.outbox.byRequest(text.id);
      await store.outbox.history(text.id);
      await store.outbox.countByStatus();
      await store.outbox.countByStatus('acc');
      await store.outbox.countWaiting();
      await store.outbox.countWaitingByAccount();
      await store.outbox.lastFailed('acc', 5);
      await store.outbox.countSentSince('acc', 0);
      await store.outbox.expireQueued('acc', 1000, 'logged out', 1005, 1005);
      await store.outbox.pruneFinal(2000, 500);
      await store.feed.after(0, 10);
      await store.feed.head();
      await store.close();
    } finally {
      spy.mockRestore();
    }
    const explain = new Client({ connectionString: TEST_PG_URL });
    await explain.connect();
    try {
      // With sequential scans priced out, a plan that still reads all of messages has no index to use.
      await explain.query('SET enable_seqscan = off');
      const { rows: shapes } = await explain.query<{ name: string; partial: boolean; leading: string }>(
        `SELECT c.relname AS name, i.indpred IS NOT NULL AS partial, a.attname AS leading
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_class t ON t.oid = i.indrelid AND t.relname = 'messages'
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = $1
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]`,
        [schema.name],
      );
      const indexes = new Map(shapes.map((shape) => [shape.name, shape]));
      const scans: string[] = [];
      for (const [sql, values] of statements) {
        const { rows } = await explain.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, values as unknown[]);
        if (readsEveryMessage(rows[0]!['QUERY PLAN'][0].Plan, indexes)) scans.push(sql.replace(/\s+/g, ' ').trim());
      }
      expect(statements.size).toBeGreaterThan(20);
      // Only the count of the whole history by status reads them all: reports and tests ask for it, the product does not.
      expect(scans).toEqual([`SELECT status, count(*) AS n FROM "${schema.name}".messages GROUP BY status`]);
    } finally {
      await explain.end();
      await schema.drop();
    }
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
