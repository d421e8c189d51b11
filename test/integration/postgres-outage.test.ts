import { PostgresStore } from '../../shared/store/postgres';
import { handleWebhookCall, type WebhookAnswer } from '../../shared/webhook/webhook';
import { Workspace } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * PostgreSQL going away under a workspace (through a proxy that cuts, refuses or swallows its traffic):
 * the webhook answers 503 with the contract's body and a sentence within 5 s, nothing accepted before is
 * lost, and accepting and sending resume by themselves when the database is back.
 */
describe('a workspace whose PostgreSQL goes away', () => {
  let schema: ThrowawaySchema;
  let proxy: TcpProxy;
  let workspace: Workspace;

  beforeEach(async () => {
    schema = throwawaySchema();
    proxy = await TcpProxy.start('127.0.0.1', 5432);
    workspace = await Workspace.open({
      store: new PostgresStore(schema.options({ connection: `postgres://postgres@127.0.0.1:${proxy.port}/test` })),
      quota: { period: 'none', allowance: 100 },
      pacing: { gap: { minMs: 1, maxMs: 3 } },
      // The outage's own errors (refused connections, renewals that failed) are expected here.
      onError: () => undefined,
    });
    await workspace.addDryRunAccount('15105566777');
  });
  afterEach(async () => {
    await proxy.restore();
    await workspace.close();
    await proxy.close();
    await schema.drop();
  });

  const post = (text: string): Promise<WebhookAnswer> =>
    handleWebhookCall(workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text }),
      token: workspace.webhookState().token,
      remoteAddress: '127.0.0.1',
    });

  const idOf = (answer: WebhookAnswer) => (answer.body as { data: { message_id: string } }).data.message_id.replace('wa_backend:', '');

  async function expectUnavailableWithin5s(): Promise<void> {
    const started = Date.now();
    const answer = await post('during the outage');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(answer.status).toBe(503);
    expect(answer.headers['Retry-After']).toBe('5');
    expect(answer.body).toEqual({
      status: 503,
      data: {},
      message: 'The workspace store cannot be reached (its database server is down or unreachable). Nothing was queued; retry in a few seconds.',
    });
  }

  async function expectResumed(before: string): Promise<void> {
    // Accepting comes back by itself, and so does sending: what was accepted before and after goes out.
    let after: WebhookAnswer | undefined;
    await until(async () => (after = await post('after the outage')).status === 200, 15_000);
    const reader = new PostgresStore(schema.options());
    try {
      await until(async () => (await reader.outbox.get(before))?.status === 'delivered' && (await reader.outbox.get(idOf(after!)))?.status === 'delivered', 20_000);
      const recorded = await reader.dryRun.list();
      expect(recorded.filter((record) => record.text === 'during the outage')).toEqual([]);
      expect(recorded.map((record) => record.times)).toEqual(recorded.map(() => 1));
    } finally {
      await reader.close();
    }
  }

  it('when the server is down: 503 within 5 s, then back to 200 and sending by itself', async () => {
    const before = await post('before the outage');
    expect(before.status).toBe(200);
    await proxy.refuse();
    await expectUnavailableWithin5s();
    await proxy.restore();
    await expectResumed(idOf(before));
  }, 60_000);

  it('when the network swallows everything: 503 within 5 s, then back to 200 and sending by itself', async () => {
    const before = await post('before the outage');
    expect(before.status).toBe(200);
    proxy.blackhole();
    await expectUnavailableWithin5s();
    await proxy.restore();
    await expectResumed(idOf(before));
  }, 60_000);
});
