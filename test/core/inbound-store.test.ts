import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Client, type QueryConfig } from 'pg';
import { SqliteStore } from '../../shared/store/sqlite';
import type { InboundRecord, StoredInbound, WorkspaceStore } from '../../shared/store/types';
import { until } from '../support/fake-transport';
import { TEST_PG_URL, throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import { STORE_KINDS, type StorePlace } from '../support/store-kinds';
import { tempDir } from '../support/temp';

const CHAT = '15550001111@s.whatsapp.net';

/** A received message as the transport's mapping records it: body and reference are JSON text. */
const received = (id: string, extra: Partial<InboundRecord> = {}): InboundRecord => ({
  accountId: 'acc',
  id,
  chatJid: CHAT,
  at: 1_700_000_000_000,
  body: JSON.stringify({ id, text: `hello ${id}` }),
  reference: JSON.stringify({ id, chatJid: CHAT, fromMe: false }),
  ...extra,
});

const ids = (rows: readonly StoredInbound[]): string[] => rows.map((row) => row.id);
const seqs = (rows: readonly StoredInbound[]): number[] => rows.map((row) => row.seq);
const increasing = (values: readonly number[]): boolean => values.every((value, i) => i === 0 || value > values[i - 1]!);

describe.each(STORE_KINDS)('the received messages of the $name store', (kind) => {
  let place: StorePlace;
  let store: WorkspaceStore;

  beforeEach(() => {
    place = kind.place();
    store = place.open();
  });

  afterEach(async () => {
    await place.cleanup();
  });

  it('stores each message once, across calls and within a batch, returning only the new ones in order', async () => {
    const first = await store.inbound.record([received('a'), received('b'), received('c')], 5000);
    expect(ids(first)).toEqual(['a', 'b', 'c']);
    expect(increasing(seqs(first))).toBe(true);
    expect(first[0]).toEqual({ ...received('a'), seq: first[0]!.seq, receivedAt: 5000 });
    // b again, d twice in the batch (the second with another body): d is stored once, as first named.
    const second = await store.inbound.record([received('b'), received('d'), received('e'), received('d', { body: '{"second":true}' })], 6000);
    expect(ids(second)).toEqual(['d', 'e']);
    expect(second[0]!.body).toBe(received('d').body);
    expect(second[0]!.seq).toBeGreaterThan(first[2]!.seq);
    expect(increasing(seqs(second))).toBe(true);
    expect(await store.inbound.record([received('a'), received('e')], 7000)).toEqual([]);
    expect(await store.inbound.record([], 7000)).toEqual([]);
    // The same id of another account is another message.
    expect(ids(await store.inbound.record([received('a', { accountId: 'other' })], 8000))).toEqual(['a']);
    expect(await store.inbound.count()).toBe(6);
  });

  it('reads the feed after a position, oldest first and at most `limit`, from a head that starts at 0', async () => {
    expect(await store.inbound.head()).toBe(0);
    expect(await store.inbound.after(0, 10)).toEqual([]);
    const stored = await store.inbound.record(['m1', 'm2', 'm3', 'm4', 'm5'].map((id) => received(id)), 1000);
    expect(await store.inbound.head()).toBe(stored[4]!.seq);
    const page = await store.inbound.after(0, 2);
    expect(page).toEqual(stored.slice(0, 2));
    expect(await store.inbound.after(page[1]!.seq, 2)).toEqual(stored.slice(2, 4));
    expect(await store.inbound.after(stored[3]!.seq, 10)).toEqual(stored.slice(4));
    expect(await store.inbound.after(stored[4]!.seq, 10)).toEqual([]);
    // A reader starting at the head gets what comes after, and only that.
    const head = await store.inbound.head();
    const later = await store.inbound.record([received('m6')], 2000);
    expect(await store.inbound.after(head, 10)).toEqual(later);
  });

  it('finds a message by its provider id, of one account or of any', async () => {
    await store.inbound.record([received('x', { accountId: 'one', chatJid: 'one@s.whatsapp.net' })], 1000);
    await store.inbound.record([received('x', { accountId: 'two', chatJid: 'two@s.whatsapp.net' }), received('y', { accountId: 'two' })], 2000);
    expect(await store.inbound.find('x', 'two')).toMatchObject({ accountId: 'two', id: 'x', chatJid: 'two@s.whatsapp.net', receivedAt: 2000 });
    expect(await store.inbound.find('x', 'one')).toMatchObject({ accountId: 'one', chatJid: 'one@s.whatsapp.net' });
    // Of any account: the first stored.
    expect(await store.inbound.find('x')).toMatchObject({ accountId: 'one' });
    expect(await store.inbound.find('y')).toMatchObject({ accountId: 'two', id: 'y' });
    expect(await store.inbound.find('y', 'one')).toBeUndefined();
    expect(await store.inbound.find('nope')).toBeUndefined();
  });

  it('prunes what was received before a time, and never hands a pruned position out again', async () => {
    await store.inbound.record([received('old1'), received('old2')], 1000);
    const kept = await store.inbound.record([received('new1')], 2000);
    expect(await store.inbound.prune(1000, 100)).toBe(0);
    expect(await store.inbound.prune(2000, 100)).toBe(2);
    expect(await store.inbound.count()).toBe(1);
    expect(await store.inbound.find('old1')).toBeUndefined();
    expect(await store.inbound.after(0, 10)).toEqual(kept);
    // Everything, the newest row included: the next message still gets a position past the last one.
    expect(await store.inbound.prune(3000, 100)).toBe(1);
    expect(await store.inbound.count()).toBe(0);
    const next = await store.inbound.record([received('after-prune')], 4000);
    expect(next[0]!.seq).toBeGreaterThan(kept[0]!.seq);
    expect(await store.inbound.after(kept[0]!.seq, 10)).toEqual(next);
    // A pruned message may be recorded again (the transport resent it after the retention window).
    expect(ids(await store.inbound.record([received('old1')], 5000))).toEqual(['old1']);
  });

  it('prunes at most `limit` messages a call, the oldest received first', async () => {
    await store.inbound.record([received('r1'), received('r2')], 1000);
    await store.inbound.record([received('r3')], 1500);
    await store.inbound.record([received('r4'), received('r5')], 1200);
    await store.inbound.record([received('new')], 5000);
    expect(await store.inbound.prune(2000, 2)).toBe(2);
    expect(await store.inbound.find('r1')).toBeUndefined();
    expect(await store.inbound.find('r2')).toBeUndefined();
    // Received at 1200 goes before the one received at 1500, whatever their positions.
    expect(await store.inbound.prune(2000, 2)).toBe(2);
    expect(ids(await store.inbound.after(0, 10))).toEqual(['r3', 'new']);
    expect(await store.inbound.prune(2000, 2)).toBe(1);
    expect(await store.inbound.prune(2000, 2)).toBe(0);
    expect(ids(await store.inbound.after(0, 10))).toEqual(['new']);
  });

  it('keeps body and reference as the exact JSON text given, unicode and ~100 KB bodies included, after a reopen', async () => {
    const text = 'héllo wörld — 你好 — 🙂👍🏽 — \u0000 nul — "quotes" \\ backslash — \u2028';
    const big = JSON.stringify({ text: '✓'.repeat(33_000) + 'end', caption: text });
    expect(big.length).toBeGreaterThan(33_000);
    expect(Buffer.byteLength(big)).toBeGreaterThan(99_000);
    const entries = [
      received('unicode', { body: JSON.stringify({ text }), reference: JSON.stringify({ id: 'unicode', participant: 'ü@lid' }) }),
      received('big', { body: big }),
      received('ü-id-🙂', { chatJid: 'gröup-🙂@g.us' }),
    ];
    const stored = await store.inbound.record(entries, 1000);
    expect(stored.map(({ seq: _seq, receivedAt: _at, ...entry }) => entry)).toEqual(entries);
    await store.close();
    const reopened = place.open();
    expect(await reopened.inbound.after(0, 10)).toEqual(stored);
    expect(JSON.parse((await reopened.inbound.find('unicode'))!.body)).toEqual({ text });
    expect((await reopened.inbound.find('big'))!.body).toBe(big);
    expect(await reopened.inbound.find('ü-id-🙂', 'acc')).toMatchObject({ chatJid: 'gröup-🙂@g.us' });
  });
});

/** Several processes recording into one schema: PostgreSQL's alone. */
describe('received messages in PostgreSQL, several stores on one schema', () => {
  let schema: ThrowawaySchema;

  beforeEach(() => {
    schema = throwawaySchema();
  });
  afterEach(async () => {
    await schema.drop();
  });

  it('stores each message of overlapping batches recorded at once by several stores once, and returns it once', async () => {
    const stores = Array.from({ length: 4 }, () => schema.store());
    await Promise.all(stores.map((store) => store.ready()));
    // 40 batches of 20 consecutive ids over 0..199, overlapping by half, every store recording at once.
    const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: 20 }, (_, i) => received(`m${((b * 10 + i) % 200).toString().padStart(3, '0')}`)));
    const results = await Promise.all(batches.map((batch, b) => stores[b % stores.length]!.inbound.record(batch, 1000 + b)));
    const returned = results.flatMap(ids);
    expect(returned).toHaveLength(200);
    expect(new Set(returned).size).toBe(200);
    for (const result of results) expect(increasing(seqs(result))).toBe(true);
    const all = await stores[0]!.inbound.after(0, 1000);
    expect(all).toHaveLength(200);
    expect(increasing(seqs(all))).toBe(true);
    expect(new Set(seqs(all))).toEqual(new Set(results.flatMap(seqs)));
    expect(await stores[1]!.inbound.count()).toBe(200);
  });

  it('hands a reader tailing the feed every message recorded by several stores at once, none skipped and none twice', async () => {
    const stores = [schema.store(), schema.store(), schema.store()];
    const reader = schema.store();
    const seen: string[] = [];
    let position = 0;
    let recording = true;
    const tail = (async () => {
      for (;;) {
        const stillRecording = recording;
        const read = await reader.inbound.after(position, 25);
        seen.push(...ids(read));
        if (read.length > 0) position = read[read.length - 1]!.seq;
        if (!stillRecording && read.length === 0) return;
      }
    })();
    const recorded: string[] = [];
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => stores[i % stores.length]!.inbound.record([received(`r${round}-${i}-a`), received(`r${round}-${i}-b`)], 1000)),
      );
      recorded.push(...results.flatMap(ids));
    }
    recording = false;
    await tail;
    expect(seen).toHaveLength(recorded.length);
    expect(new Set(seen)).toEqual(new Set(recorded));
  });

  it('shows no position while a smaller one is still to commit: a late record holds back the ones after it', async () => {
    const [late, next, reader] = [schema.store(), schema.store(), schema.store()];
    await Promise.all([late.ready(), next.ready(), reader.ready()]);
    const s = `"${schema.name}"`;
    const blocker = new Client({ connectionString: TEST_PG_URL });
    await blocker.connect();
    const waiting = async (event: string): Promise<boolean> => {
      const rows = await schema.admin<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = $1 AND query LIKE '%' || $2 || '%'`,
        [event, schema.name],
      );
      return rows[0]!.n > 0;
    };
    try {
      // An uncommitted row with the key 'x' makes `late` stall inside its statement, after its seqs are
      // taken: it waits for this transaction to end to know whether 'x' is a conflict.
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO ${s}.inbound_messages (account_id, id, chat_jid, at, received_at, body, reference) VALUES ('acc', 'x', $1, 1, 1, '{}', '{}')`,
        [CHAT],
      );
      const lateRecord = late.inbound.record([received('y'), received('x')], 1000);
      await until(() => waiting('transactionid'));
      let nextDone = false;
      const nextRecord = next.inbound.record([received('z')], 1000).finally(() => {
        nextDone = true;
      });
      // `next` waits for `late` to commit (without that rule it would commit z with a greater seq now).
      await until(async () => nextDone || (await waiting('advisory')));
      expect(nextDone).toBe(false);
      expect(await reader.inbound.after(0, 10)).toEqual([]);
      expect(await reader.inbound.head()).toBe(0);
      await blocker.query('ROLLBACK');
      const [fromLate, fromNext] = await Promise.all([lateRecord, nextRecord]);
      expect(ids(fromLate)).toEqual(['y', 'x']);
      expect(ids(fromNext)).toEqual(['z']);
      const all = await reader.inbound.after(0, 10);
      expect(ids(all)).toEqual(['y', 'x', 'z']);
      expect(increasing(seqs(all))).toBe(true);
    } finally {
      await blocker.end();
    }
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

/**
 * Whether a plan reads every received message: a sequential scan, or an index scan whose condition does
 * not bound the index's first column (it walks the whole index), unless a limit stops an unfiltered walk.
 * `leading` maps each index of the table to its first column.
 */
function readsEveryRow(node: PlanNode, leading: ReadonlyMap<string, string>, underLimit = false): boolean {
  const column = node['Index Name'] === undefined ? undefined : leading.get(node['Index Name']);
  const whole =
    (node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'inbound_messages') ||
    (column !== undefined && !(underLimit && node.Filter === undefined) && !new RegExp(`\\(${column} [=<>]`).test(node['Index Cond'] ?? ''));
  return whole || (node.Plans ?? []).some((child) => readsEveryRow(child, leading, node['Node Type'] === 'Limit'));
}

describe('received messages query plans', () => {
  /** Every operation that reads or deletes received messages, once. */
  const exercise = async (store: WorkspaceStore): Promise<void> => {
    await store.inbound.record([received('a'), received('b')], 1000);
    await store.inbound.after(0, 10);
    await store.inbound.head();
    await store.inbound.find('a');
    await store.inbound.find('a', 'acc');
    await store.inbound.prune(500, 100);
    await store.inbound.count();
  };
  // Only the count reads them all: reports ask for it, the product's paths do not.
  const isCount = (sql: string): boolean => /^\s*SELECT count\(\*\)/i.test(sql);

  it('SQLite: finds, reads the feed and prunes through an index, never by a scan of every message', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'workspace.sqlite');
    const statements: string[] = [];
    const prepare = DatabaseSync.prototype.prepare;
    const spy = jest.spyOn(DatabaseSync.prototype, 'prepare').mockImplementation(function (this: DatabaseSync, sql: string) {
      if (/\binbound_messages\b/.test(sql) && /^\s*(SELECT|DELETE)/i.test(sql)) statements.push(sql);
      return prepare.call(this, sql);
    } as never);
    let store: SqliteStore | undefined;
    try {
      store = new SqliteStore({ path });
    } finally {
      spy.mockRestore();
    }
    const db = new DatabaseSync(path);
    try {
      await exercise(store);
      const scans = statements.filter((sql) => {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
        return plan.some(({ detail }) => /^SCAN inbound_messages\b/.test(detail));
      });
      expect(statements.length).toBeGreaterThanOrEqual(6);
      expect(scans.filter((sql) => !isCount(sql))).toEqual([]);
    } finally {
      db.close();
      await store.close();
      dir.cleanup();
    }
  });

  it('PostgreSQL: finds, reads the feed and prunes through an index, never by a scan of every message', async () => {
    const schema = throwawaySchema();
    const statements = new Map<string, readonly unknown[]>();
    const query = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const [text, values] = args as [string | QueryConfig, unknown[] | undefined];
      const sql = typeof text === 'string' ? text : text.text;
      if (/\.inbound_messages\b/.test(sql) && /^\s*(SELECT|DELETE)/i.test(sql)) statements.set(sql, values ?? []);
      return (query as (...rest: unknown[]) => unknown).apply(this, args);
    } as never);
    try {
      const store = schema.store();
      await exercise(store);
      await store.close();
    } finally {
      spy.mockRestore();
    }
    const explain = new Client({ connectionString: TEST_PG_URL });
    await explain.connect();
    try {
      // With sequential scans priced out, a plan that still has one has no index to use.
      await explain.query('SET enable_seqscan = off');
      const { rows: indexes } = await explain.query<{ name: string; leading: string }>(
        `SELECT c.relname AS name, a.attname AS leading
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_class t ON t.oid = i.indrelid AND t.relname = 'inbound_messages'
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = $1
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]`,
        [schema.name],
      );
      const leading = new Map(indexes.map((index) => [index.name, index.leading]));
      const scans: string[] = [];
      for (const [sql, values] of statements) {
        const { rows } = await explain.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, values as unknown[]);
        if (readsEveryRow(rows[0]!['QUERY PLAN'][0].Plan, leading) && !isCount(sql)) scans.push(sql.replace(/\s+/g, ' ').trim());
      }
      expect(statements.size).toBeGreaterThanOrEqual(6);
      expect(scans).toEqual([]);
    } finally {
      await explain.end();
      await schema.drop();
    }
  });
});
