import { PostgresStore } from '../../shared/store/postgres';
import { handleWebhookCall, type WebhookAnswer } from '../../shared/webhook/webhook';
import { DryRunTransport } from '../../shared/transport/dry-run';
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
  let errors: string[];

  beforeEach(async () => {
    schema = throwawaySchema();
    errors = [];
    proxy = await TcpProxy.start('127.0.0.1', 5432);
    workspace = await Workspace.open({
      store: new PostgresStore(schema.options({ connection: `postgres://postgres@127.0.0.1:${proxy.port}/test` })),
      quota: { period: 'none', allowance: 100 },
      pacing: { gap: { minMs: 1, maxMs: 3 } },
      // The outage's own errors (refused connections, renewals that failed) are expected here; they are
      // printed only if the test fails, to show what happened.
      onError: (error) => errors.push(`${new Date().toISOString()} ${String(error)}`),
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
    // Accepting comes back by itself, and so does sending: what was accepted before and after goes out
    // (within 40 s: a sender whose store writes failed retries them with a backoff of up to 30 s).
    let after: WebhookAnswer | undefined;
    await until(async () => (after = await post('after the outage')).status === 200, 15_000);
    const reader = new PostgresStore(schema.options());
    try {
      await until(async () => (await reader.outbox.get(before))?.status === 'delivered' && (await reader.outbox.get(idOf(after!)))?.status === 'delivered', 40_000).catch(async (error: unknown) => {
        const after_ = after === undefined ? undefined : idOf(after);
        console.log(
          JSON.stringify(
            {
              before: await reader.outbox.get(before),
              after: after_ && (await reader.outbox.get(after_)),
              history: after_ && (await reader.outbox.history(after_)),
              owner: await reader.ownership.ownerOf('dry-run-15105566777', Date.now()),
              connection: workspace.connection('dry-run-15105566777'),
              errors,
            },
            null,
            1,
          ),
        );
        throw error;
      });
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
  }, 90_000);

  it('when the network swallows everything: 503 within 5 s, then back to 200 and sending by itself', async () => {
    const before = await post('before the outage');
    expect(before.status).toBe(200);
    proxy.blackhole();
    await expectUnavailableWithin5s();
    await proxy.restore();
    await expectResumed(idOf(before));
  }, 90_000);
});

describe('an owner whose PostgreSQL connection is cut while it lives', () => {
  it('closes its connection before another process takes the account, and the other sends the rest', async () => {
    const schema = throwawaySchema();
    const proxy = await TcpProxy.start('127.0.0.1', 5432);
    const account = { id: 'linked', kind: 'baileys' as const, phone: '15105566779', name: null, createdAt: 1, connectedAt: 1, active: true };
    // Every connection's life, by workspace: WhatsApp allows one socket per device, so they must never overlap.
    const lives: { who: string; opened: number; closed?: number }[] = [];
    const recordingTransport = (who: string, store: PostgresStore) => () => {
      const life: { who: string; opened: number; closed?: number } = { who, opened: Date.now() };
      lives.push(life);
      const transport = new DryRunTransport(account.id, account.phone, store.dryRun, Date.now);
      const close = transport.close.bind(transport);
      transport.close = async () => {
        life.closed ??= Date.now();
        await close();
      };
      return transport;
    };
    const cutStore = new PostgresStore(schema.options({ connection: `postgres://postgres@127.0.0.1:${proxy.port}/test` }));
    const directStore = new PostgresStore(schema.options());
    await directStore.accounts.put(account);
    const options = { quota: { period: 'none' as const, allowance: 100 }, pacing: { gap: { minMs: 1, maxMs: 3 } }, onError: () => undefined };
    const cut = await Workspace.open({ ...options, store: cutStore, openTransport: recordingTransport('cut', cutStore) });
    const other = await Workspace.open({ ...options, store: directStore, openTransport: recordingTransport('other', directStore) });
    try {
      expect(lives.map((life) => life.who)).toEqual(['cut']);
      proxy.blackhole();
      const cutAt = Date.now();
      await until(() => lives.some((life) => life.who === 'other'), 15_000);
      const [first, second] = lives;
      expect(first!.closed).toBeDefined();
      // The cut owner closed before the other opened, and the take-over came within the hold's life.
      expect(first!.closed!).toBeLessThan(second!.opened);
      expect(second!.opened - cutAt).toBeLessThan(10_000);
      const answer = await handleWebhookCall(other, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'sent by the new owner' }),
        token: other.webhookState().token,
        remoteAddress: '127.0.0.1',
      });
      expect(answer.status).toBe(200);
      await until(async () => (await directStore.dryRun.list()).some((record) => record.text === 'sent by the new owner'), 10_000);
    } finally {
      await proxy.restore();
      await Promise.all([cut.close(), other.close()]);
      await proxy.close();
      await schema.drop();
    }
  }, 60_000);
});
