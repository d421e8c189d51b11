import { checkStore, describeStoreReport } from '../../shared/hosting/store-check';
import { parseStoreChoice, type StoreChoice } from '../../shared/hosting/store-choice';
import { throwawaySchema, type ThrowawaySchema } from '../support/postgres';

/** The test server as editor fields, on one throwaway schema. */
function choiceOn(schema: string, extra: Record<string, unknown> = {}): StoreChoice {
  const parsed = parseStoreChoice(
    { storeKind: 'postgres', pgHost: '127.0.0.1', pgPort: '5432', pgDatabase: 'test', pgUser: 'postgres', pgSchema: schema, ...extra },
    { storePath: '/unused.sqlite', workspaceName: 'unused' },
  );
  if (!parsed.ok) throw new Error(parsed.rejection.message);
  return parsed.value;
}

describe('checkStore on PostgreSQL', () => {
  let schema: ThrowawaySchema;
  beforeEach(() => {
    schema = throwawaySchema();
  });
  afterEach(async () => {
    await schema.drop();
  });

  it('connects, creates the schema and says there are no accounts yet', async () => {
    const report = await checkStore(choiceOn(schema.name));
    expect(report).toEqual({ ok: true, value: { storeKey: `postgres://postgres@127.0.0.1:5432/test?schema=${schema.name}`, kind: 'postgres', accounts: [] } });
    expect(await schema.admin('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema.name])).toHaveLength(1);
    if (report.ok) expect(describeStoreReport(report.value)).toBe(`Store postgres://postgres@127.0.0.1:5432/test?schema=${schema.name} is open and its schema is up to date; no accounts yet.`);
  });

  it('reports each account with its state and the process that holds it', async () => {
    const store = schema.store();
    await store.accounts.put({ id: 'a1', kind: 'baileys', phone: '15105566777', name: null, createdAt: 1, connectedAt: 2, active: true });
    await store.accounts.put({ id: 'a2', kind: 'dry-run', phone: null, name: null, createdAt: 1, connectedAt: null, active: false });
    await store.ownership.acquire('a1', 'worker-1 pid 7', 1000, 60_000);
    const report = await checkStore(choiceOn(schema.name), 2000);
    if (!report.ok) throw new Error(report.rejection.message);
    expect(describeStoreReport(report.value)).toBe(
      `Store postgres://postgres@127.0.0.1:5432/test?schema=${schema.name} is open and its schema is up to date; ` +
        '+15105566777 (baileys): linked, held by worker-1 pid 7; a2 (dry-run): logged out or unlinked, held by no process.',
    );
  });

  it("adds the connection state each account's owner last reported", async () => {
    const store = schema.store();
    await store.accounts.put({ id: 'a1', kind: 'baileys', phone: '15105566777', name: null, createdAt: 1, connectedAt: 2, active: true });
    await store.ownership.acquire('a1', 'worker-1 pid 7', 1000, 60_000);
    await store.changes.append([
      { kind: 'account', accountId: 'a1', state: 'open', detail: null, at: 1000 },
      { kind: 'account', accountId: 'a1', state: 'logged_out', detail: 'WhatsApp logged this device out.', at: 1500 },
    ]);
    const report = await checkStore(choiceOn(schema.name), 2000);
    if (!report.ok) throw new Error(report.rejection.message);
    expect(describeStoreReport(report.value)).toBe(
      `Store postgres://postgres@127.0.0.1:5432/test?schema=${schema.name} is open and its schema is up to date; ` +
        '+15105566777 (baileys): linked, connection logged out, held by worker-1 pid 7.',
    );
  });

  it('answers 503 with the reason when the server cannot be reached, never with the password', async () => {
    const report = await checkStore(choiceOn(schema.name, { pgPort: '1', pgPassword: 'hunter2' }));
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.rejection.status).toBe(503);
    expect(report.rejection.message).toMatch(new RegExp(`^The store postgres://postgres@127\\.0\\.0\\.1:1/test\\?schema=${schema.name} could not be opened: .*ECONNREFUSED.*\\.$`));
    expect(report.rejection.message).not.toContain('hunter2');
  });
});
