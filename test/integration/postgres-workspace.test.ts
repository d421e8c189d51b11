import { PostgresStore } from '../../shared/store/postgres';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { Workspace } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { throwawaySchema, type ThrowawaySchema } from '../support/postgres';

/** The core end to end on the PostgreSQL store: webhook call → accept → dispatcher → dry-run transport. */
describe('a workspace on the PostgreSQL store', () => {
  let schema: ThrowawaySchema;
  let workspace: Workspace;
  let errors: unknown[];

  beforeEach(async () => {
    schema = throwawaySchema();
    errors = [];
    workspace = await Workspace.open({
      store: new PostgresStore(schema.options()),
      quota: { period: 'daily', allowance: 10 },
      pacing: { gap: { minMs: 1, maxMs: 3 } },
      onError: (error) => errors.push(error),
    });
  });
  afterEach(async () => {
    await workspace.close();
    await schema.drop();
    expect(errors).toEqual([]);
  });

  const post = (payload: object) =>
    handleWebhookCall(workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify(payload),
      token: workspace.webhookState().token,
      remoteAddress: '127.0.0.1',
    });

  it('accepts a webhook request, and the dry-run account records it as sent and delivered', async () => {
    const account = await workspace.addDryRunAccount('15105566777');
    const answer = await post({ action: 'send', phone: '+1 415 123 1234', text: 'hello from PostgreSQL' });
    expect(answer.status).toBe(200);
    const id = (answer.body as { data: { message_id: string } }).data.message_id.slice('wa_backend:'.length);
    await until(async () => (await workspace.message(id))?.status === 'delivered');
    expect(await workspace.store.dryRun.list(account.id)).toEqual([
      expect.objectContaining({ id, accountId: account.id, jid: '14151231234@s.whatsapp.net', kind: 'text', text: 'hello from PostgreSQL', times: 1 }),
    ]);
    expect((await workspace.quota()).used).toBe(1);
    const [logged] = await workspace.store.attempts.list(10);
    expect(logged).toMatchObject({ status: 200, messageId: id, remoteAddress: '127.0.0.1' });
    expect((await workspace.store.outbox.history(id)).map((event) => event.status)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    // The rows are the schema's: another process opening it sees the same message and the account's owner.
    const other = schema.store();
    expect((await other.outbox.get(id))?.status).toBe('delivered');
    expect(await other.ownership.ownerOf(account.id, Date.now())).toMatch(new RegExp(` pid ${process.pid} `));
  });

  it('answers 429 past the quota with nothing more queued, as on SQLite', async () => {
    await workspace.addDryRunAccount('15105566777');
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => post({ action: 'send', phone: '+14151231234', text: `message ${i}` })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([...Array<number>(10).fill(200), 429, 429]);
    const byStatus = await workspace.store.outbox.countByStatus();
    expect(Object.values(byStatus).reduce((sum, n) => sum + n, 0)).toBe(10);
    expect((await workspace.quota()).used).toBe(10);
  });
});
