import { OWNERSHIP_RENEW_MS } from '../../shared/accounts/ownership-keeper';
import type { MessageChange } from '../../shared/model';
import { PostgresStore } from '../../shared/store/postgres';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { Workspace } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { throwawaySchema, type ThrowawaySchema } from '../support/postgres';

/**
 * Two workspaces on one PostgreSQL schema, as two processes of one deployment hold them (n8n's main and a
 * worker, two Node-RED instances): one owner per account, requests accepted by either, every change seen
 * by both. Each workspace has its own pool, LISTEN connection and owner id, as a separate process would.
 */
describe('two workspaces on one PostgreSQL schema', () => {
  let schema: ThrowawaySchema;
  let errors: unknown[];
  const open: Workspace[] = [];

  const openWorkspace = async (): Promise<Workspace> => {
    const workspace = await Workspace.open({
      store: new PostgresStore(schema.options()),
      quota: { period: 'none', allowance: 100 },
      pacing: { gap: { minMs: 1, maxMs: 3 } },
      onError: (error) => errors.push(error),
    });
    open.push(workspace);
    return workspace;
  };

  const post = (workspace: Workspace, text: string) =>
    handleWebhookCall(workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text }),
      token: workspace.webhookState().token,
      remoteAddress: '127.0.0.1',
    });

  const heard = (workspace: Workspace): MessageChange[] => {
    const changes: MessageChange[] = [];
    workspace.onMessageChange((change) => changes.push(change));
    return changes;
  };

  beforeEach(() => {
    schema = throwawaySchema();
    errors = [];
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((workspace) => workspace.close()));
    await schema.drop();
    expect(errors).toEqual([]);
  });

  it('has one owner send what either accepts, and both hear its lifecycle', async () => {
    const first = await openWorkspace();
    const second = await openWorkspace();
    const account = await first.addDryRunAccount('15105566777');
    // The new account reaches the other process through the change feed.
    await until(() => second.accounts().some((known) => known.id === account.id), 3000);
    const store = new PostgresStore(schema.options());
    const owner = await store.ownership.ownerOf(account.id, Date.now());
    await store.close();
    expect(owner).toMatch(/ pid \d+ [0-9a-f]{12}$/);
    // ...and so does the state its owner reports (the owner's next change-feed batch).
    await until(() => second.connection(account.id)?.state === 'open', 3000);

    const onFirst = heard(first);
    const onSecond = heard(second);
    const answer = await post(second, 'accepted by the process that does not own the account');
    expect(answer.status).toBe(200);
    const id = (answer.body as { data: { message_id: string } }).data.message_id.replace('wa_backend:', '');
    await until(async () => (await first.message(id))?.status === 'delivered', 5000);
    await until(() => onSecond.some((change) => change.messageId === id && change.status === 'delivered'), 3000);
    const statuses = (changes: MessageChange[]) => changes.filter((change) => change.messageId === id).map((change) => change.status);
    expect(statuses(onFirst)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expect(statuses(onSecond)).toEqual(['queued', 'sending', 'sent', 'delivered']);
  });

  it('takes over an account when its owner closes, and sends what waits', async () => {
    const first = await openWorkspace();
    const account = await first.addDryRunAccount('15105566778');
    const second = await openWorkspace();
    await first.close();
    const started = Date.now();
    const answer = await post(second, 'sent after the take-over');
    expect(answer.status).toBe(200);
    const id = (answer.body as { data: { message_id: string } }).data.message_id.replace('wa_backend:', '');
    await until(async () => (await second.message(id))?.status === 'delivered', OWNERSHIP_RENEW_MS + 5000);
    expect(Date.now() - started).toBeLessThan(OWNERSHIP_RENEW_MS + 5000);
    expect(second.connection(account.id)?.state).toBe('open');
  });

  it('makes a rotated token unknown on the other process within a second, and shows a switched-off webhook and new chats there', async () => {
    const first = await openWorkspace();
    const second = await openWorkspace();
    const old = first.webhookState().token;
    expect(second.checkToken(old)).toBe('valid');
    const rotated = await first.rotateWebhookToken();
    const rotatedAt = Date.now();
    await until(() => second.checkToken(old) === 'unknown', 1000);
    expect(Date.now() - rotatedAt).toBeLessThan(1000);
    expect(second.checkToken(rotated.token)).toBe('valid');
    // Switching the webhook off, and new chats, reach the other process too.
    await first.setWebhookEnabled(false);
    await until(() => second.checkToken(rotated.token) === 'disabled', 1000);
    const account = await first.addDryRunAccount('15105566779');
    await first.addChats(account.id, [{ jid: '120363000000000009@g.us', name: 'Night shift' }]);
    await until(() => second.chats().some((chat) => chat.name === 'Night shift'), 2000);
  });

  it('serves a link page whose linking session runs in the other process, and opens it once over both', async () => {
    const linking = await openWorkspace();
    const serving = await openWorkspace();
    const session = linking.linkPages.start(Date.now() + 60_000);
    session.show({ qr: '2@ref', dataUrl: 'data:image/png;base64,cXI=' });
    await linking.linkPages.flushed();
    const opened = await serving.linkPages.serve(session.token, undefined);
    expect(opened.status).toBe(200);
    const view = /encodeURIComponent\("([A-Za-z0-9_-]{43})"\)/.exec(opened.body)![1]!;
    // Opened once: a second load, in either process, is refused.
    expect((await linking.linkPages.serve(session.token, undefined)).status).toBe(404);
    expect((await serving.linkPages.serve(session.token, undefined)).status).toBe(404);
    expect(JSON.parse((await serving.linkPages.serve(session.token, view)).body)).toMatchObject({ status: 'waiting', qr: 'data:image/png;base64,cXI=' });
    session.linked({ id: 'wa-15550000001', kind: 'baileys', phone: '15550000001', name: 'Bea', createdAt: 1, connectedAt: 1, active: true });
    await linking.linkPages.flushed();
    expect(JSON.parse((await serving.linkPages.serve(session.token, view)).body)).toEqual({ status: 'linked', phone: '+15550000001', name: 'Bea' });
    expect(JSON.parse((await linking.linkPages.serve(session.token, view)).body)).toEqual({ status: 404, message: expect.stringContaining('already opened') });
  });
});
