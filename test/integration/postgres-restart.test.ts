import { PostgresStore } from '../../shared/store/postgres';
import { DryRunTransport } from '../../shared/transport/dry-run';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { Workspace } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { PrivatePostgres } from '../support/private-postgres';

interface Life {
  readonly who: string;
  readonly opened: number;
  closed?: number;
}

/**
 * The PostgreSQL server restarts under two processes' workspaces (a server of the test's own, stopped for
 * longer than a hold lasts, then started again): WhatsApp allows one connection per linked device, so the
 * two workspaces' connections to the account must never be open at the same moment, and sending resumes.
 */
describe('a PostgreSQL restart under two workspaces', () => {
  it('never has two connections to one account open at once, and sending resumes afterwards', async () => {
    const server = await PrivatePostgres.start();
    const lives: Life[] = [];
    const account = { id: 'linked', kind: 'baileys' as const, phone: '15105566780', name: null, createdAt: 1, connectedAt: 1, active: true };
    const openWorkspace = async (who: string) => {
      const store = new PostgresStore({ connection: server.url, schema: 'restart_test', poolSize: 4 });
      await store.accounts.put(account);
      return Workspace.open({
        store,
        quota: { period: 'none', allowance: 100 },
        pacing: { gap: { minMs: 1, maxMs: 3 } },
        onError: () => undefined,
        openTransport: () => {
          const life: Life = { who, opened: Date.now() };
          lives.push(life);
          const transport = new DryRunTransport(account.id, account.phone, store.dryRun, Date.now);
          const close = transport.close.bind(transport);
          transport.close = async () => {
            life.closed ??= Date.now();
            await close();
          };
          return transport;
        },
      });
    };
    const workspaces = [await openWorkspace('first'), await openWorkspace('second')];
    try {
      expect(lives.map((life) => life.who)).toEqual(['first']);
      server.stop();
      // Down for longer than a hold lasts (6 s): the owner must give the account up meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 7000));
      expect(lives[0]!.closed).toBeDefined();
      server.resume();
      await until(() => lives.length >= 2 && lives.some((life) => life.closed === undefined), 20_000);
      // No two connections were ever open at once.
      const sorted = [...lives].sort((a, b) => a.opened - b.opened);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i - 1]!.closed ?? Infinity).toBeLessThanOrEqual(sorted[i]!.opened);
      const answer = await handleWebhookCall(workspaces[1]!, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'after the restart' }),
        token: workspaces[1]!.webhookState().token,
        remoteAddress: '127.0.0.1',
      });
      expect(answer.status).toBe(200);
      const reader = new PostgresStore({ connection: server.url, schema: 'restart_test' });
      await until(async () => (await reader.dryRun.list()).some((record) => record.text === 'after the restart'), 15_000);
      await reader.close();
    } finally {
      await Promise.all(workspaces.map((workspace) => workspace.close()));
      server.remove();
    }
  }, 90_000);
});
