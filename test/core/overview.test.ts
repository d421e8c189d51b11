import type { Attempt, OutboxMessage } from '../../shared/model';
import { lastFailures, workspaceOverview } from '../../shared/workspace/overview';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { until } from '../support/fake-transport';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';

// The workspace at a glance (the Node-RED sidebar's data), on a real SQLite store with dry-run accounts.
describe('workspaceOverview', () => {
  const opened: TestWorkspace[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) {
      await t.close();
      expect(t.errors).toEqual([]);
    }
  });

  const open = async (gapMs: number) => {
    const t = await openTestWorkspace({ quota: { period: 'none', allowance: 100 }, pacing: { gap: { minMs: gapMs, maxMs: gapMs } } });
    opened.push(t);
    return t;
  };
  const post = (t: TestWorkspace, payload: unknown, contentType = 'application/json') =>
    handleWebhookCall(t.workspace, {
      method: 'POST',
      contentType,
      body: typeof payload === 'string' ? payload : JSON.stringify(payload),
      token: t.workspace.webhookState().token,
      remoteAddress: null,
    });

  it('counts each account’s waiting messages through the queue index', async () => {
    // A 10-minute gap: the first message goes out at once, the others wait their turn.
    const t = await open(600_000);
    const busy = await t.workspace.addDryRunAccount('15105566777');
    const idle = await t.workspace.addDryRunAccount('15105566778');
    for (const text of ['one', 'two', 'three']) {
      expect((await post(t, { action: 'send', phone: '+14151231234', text, whatsapp_account_phone: '+15105566777' })).status).toBe(200);
    }
    await until(async () => (await t.workspace.store.outbox.countByStatus(busy.id)).delivered === 1);
    expect(await t.workspace.queueDepths()).toEqual(new Map([[busy.id, 2]]));

    const overview = await workspaceOverview(t.workspace);
    expect(overview.accounts).toEqual([
      { id: busy.id, kind: 'dry-run', phone: '15105566777', name: null, state: 'open', detail: null, pausedUntil: null, pauseReason: null, queued: 2 },
      { id: idle.id, kind: 'dry-run', phone: '15105566778', name: null, state: 'open', detail: null, pausedUntil: null, pauseReason: null, queued: 0 },
    ]);
    expect(overview.webhook).toEqual({ token: t.workspace.webhookState().token, enabled: true });
    expect(overview.quota).toMatchObject({ allowance: 100, used: 3, available: 97 });
    expect(overview.failures).toEqual([]);
  });

  it('lists refusals and failed messages newest first, each once, and the newest failed messages per account', async () => {
    const t = await open(1);
    const account = await t.workspace.addDryRunAccount('15105566777');
    const failedIds: string[] = [];
    for (const phone of ['+14150000000', '+14160000000', '+14170000000']) {
      const answer = await post(t, { action: 'send', phone, text: 'hi' });
      failedIds.push((answer.body as { data: { message_id: string } }).data.message_id);
      await until(async () => (await t.workspace.store.outbox.countByStatus()).failed === failedIds.length);
    }
    await new Promise((resolve) => setTimeout(resolve, 5)); // the refusal is strictly the newest
    expect((await post(t, 'hello', 'text/plain')).status).toBe(415);
    // The attempt log records each failure as its request's outcome too: wait for the last one.
    await until(async () => (await t.workspace.attempts()).filter((attempt) => attempt.outcome?.startsWith('failed')).length === 3);

    expect((await t.workspace.failedMessages(account.id, 2)).map((message) => message.reason)).toEqual([
      '+14170000000 is not on WhatsApp',
      '+14160000000 is not on WhatsApp',
    ]);
    const { failures } = await workspaceOverview(t.workspace, 3);
    expect(failures).toEqual([
      { at: expect.any(String), kind: 'refused', status: 415, messageId: null, accountId: null, reason: 'The Content-Type header is "text/plain"; send the body as application/json.' },
      { at: expect.any(String), kind: 'failed', status: null, messageId: failedIds[2], accountId: account.id, reason: '+14170000000 is not on WhatsApp' },
      { at: expect.any(String), kind: 'failed', status: null, messageId: failedIds[1], accountId: account.id, reason: '+14160000000 is not on WhatsApp' },
    ]);
    expect(failures.map((failure) => failure.at)).toEqual([...failures.map((failure) => failure.at)].sort().reverse());
  });
});

describe('lastFailures', () => {
  const attempt = (seq: number, fields: Partial<Attempt>): Attempt => ({
    seq,
    at: seq * 1000,
    remoteAddress: null,
    request: '{}',
    status: 200,
    response: '{}',
    messageId: null,
    notes: null,
    outcome: null,
    outcomeAt: null,
    ...fields,
  });
  const failedMessage = (requestId: string, updatedAt: number): OutboxMessage =>
    ({ id: requestId, requestId, accountId: 'a1', status: 'failed', reason: 'not on WhatsApp', updatedAt }) as OutboxMessage;

  it('keeps an attempt’s failed outcome when its message is not among the failed messages given', () => {
    const attempts = [attempt(2, { messageId: 'M2', outcome: 'failed: gone', outcomeAt: 5000 }), attempt(1, { messageId: 'M1', outcome: 'delivered', outcomeAt: 4000 })];
    expect(lastFailures(attempts, [], 5)).toEqual([
      { at: new Date(5000).toISOString(), kind: 'failed', status: null, messageId: 'wa_backend:M2', accountId: null, reason: 'gone' },
    ]);
    // Listed once, from the outbox, which names the account.
    expect(lastFailures(attempts, [failedMessage('M2', 5000)], 5)).toEqual([
      { at: new Date(5000).toISOString(), kind: 'failed', status: null, messageId: 'wa_backend:M2', accountId: 'a1', reason: 'not on WhatsApp' },
    ]);
  });

  it('cuts at the count, newest first', () => {
    const attempts = [3, 2, 1].map((seq) => attempt(seq, { status: 400, response: JSON.stringify({ message: `bad ${seq}` }) }));
    expect(lastFailures(attempts, [failedMessage('M9', 2500)], 2).map((failure) => failure.reason)).toEqual(['bad 3', 'not on WhatsApp']);
  });
});
