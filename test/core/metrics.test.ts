import { join } from 'node:path';
import { register } from 'prom-client';
import type { Account } from '../../shared/model';
import { SqliteStore } from '../../shared/store/sqlite';
import { TransportError, type SendOptions } from '../../shared/transport/types';
import { serveWebhookCall, type WebhookCall } from '../../shared/webhook/webhook';
import { Workspace } from '../../shared/workspace/workspace';
import { FakeTransport, until } from '../support/fake-transport';
import { readScrape, type Scrape } from '../support/prometheus';
import { tempDir } from '../support/temp';
import { openTestWorkspace } from '../support/workspace';

const TOKEN = 'metrics-test-token-0123456789';
const A: Account = { id: 'wa-15105566777', kind: 'baileys', phone: '15105566777', name: 'A', createdAt: 1, connectedAt: 2, active: true };
const B: Account = { id: 'wa-447700900123', kind: 'baileys', phone: '447700900123', name: 'B', createdAt: 1, connectedAt: 1, active: true };
const STATES = ['linking', 'connecting', 'open', 'reconnecting', 'logged_out', 'replaced', 'paused', 'unknown'];

/** Throws a permanent refusal for the text "refused", as WhatsApp refusing one message for good. */
class RefusingTransport extends FakeTransport {
  override async sendText(jid: string, text: string, messageId: string, options?: SendOptions): Promise<string | void> {
    if (text === 'refused') throw new TransportError('permanent', 'WhatsApp refused this message for good');
    return super.sendText(jid, text, messageId, options);
  }
}

describe('metrics: one workspace\'s Prometheus text after accepting, sending, receipts, failures and reconnects', () => {
  const dir = tempDir();
  let workspace: Workspace;
  let clock = 1_700_000_000_000;
  const errors: unknown[] = [];
  const a = new RefusingTransport();
  const b = new FakeTransport();
  let scrape: Scrape;
  const T0 = clock;

  const call = (body: unknown, overrides: Partial<WebhookCall> = {}): WebhookCall => ({
    method: 'POST',
    contentType: 'application/json',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    token: TOKEN,
    remoteAddress: '127.0.0.1',
    ...overrides,
  });
  const send = async (fields: Record<string, unknown>) => {
    const { answer } = await serveWebhookCall(workspace, call({ action: 'send', ...fields }));
    expect(answer.status).toBe(200);
    return String((answer.body as { data: { message_id: string } }).data.message_id).slice('wa_backend:'.length);
  };
  const statusOf = async (id: string) => (await workspace.message(id))?.status;

  beforeAll(async () => {
    const store = new SqliteStore({ path: join(dir.path, 'workspace.sqlite') });
    await store.accounts.put(A);
    await store.accounts.put(B);
    b.state = 'reconnecting';
    a.notOnWhatsApp.add('14150000001');
    workspace = await Workspace.open({
      store,
      openTransport: (account) => (account.id === A.id ? a : b),
      quota: { period: 'none', allowance: 100 },
      pacing: { gap: { minMs: 1, maxMs: 3 } },
      initialToken: TOKEN,
      now: () => clock,
      onError: (error) => errors.push(error),
    });

    const one = await send({ phone: '+14151231234', text: 'one', whatsapp_account_phone: '+15105566777' });
    const two = await send({ phone: '+14151231235', text: 'two', whatsapp_account_phone: '+15105566777' });
    const unknown = await send({ phone: '+14150000001', text: 'nobody', whatsapp_account_phone: '+15105566777' });
    const refused = await send({ phone: '+14151231236', text: 'refused', whatsapp_account_phone: '+15105566777' });
    await send({ phone: '+14151231237', text: 'waits', whatsapp_account_phone: '+447700900123' });
    expect((await serveWebhookCall(workspace, call('{"action":"send",'))).answer.status).toBe(400);
    expect((await serveWebhookCall(workspace, call({ action: 'send' }, { token: 'not-the-token-at-all-0000' }))).answer.status).toBe(404);
    expect((await serveWebhookCall(workspace, call('', { method: 'GET' }))).answer.status).toBe(405);

    await until(async () => (await statusOf(one)) === 'sent' && (await statusOf(two)) === 'sent');
    await until(async () => (await statusOf(unknown)) === 'failed' && (await statusOf(refused)) === 'failed');
    a.emitStatus({ messageId: one, status: 'delivered' });
    await until(async () => (await statusOf(one)) === 'delivered');
    a.emitStatus({ messageId: one, status: 'read' });
    a.emitStatus({ messageId: two, status: 'failed', reason: 'WhatsApp refused the message (error 463)' });
    await until(async () => (await statusOf(one)) === 'read' && (await statusOf(two)) === 'failed');
    a.disconnect(428);
    a.disconnect(515);
    a.disconnect(null);
    clock += 90_000;
    scrape = readScrape((await workspace.metricsText()).text);
  });

  afterAll(async () => {
    await workspace?.close();
    dir.cleanup();
  });

  it('has every family with its type', () => {
    expect(Object.fromEntries([...scrape.families].map(([name, { type }]) => [name, type]))).toEqual({
      wahook_webhook_calls_total: 'COUNTER',
      wahook_cloud_api_webhook_calls_total: 'COUNTER',
      wahook_messages_accepted_total: 'COUNTER',
      wahook_messages_sent_total: 'COUNTER',
      wahook_messages_delivered_total: 'COUNTER',
      wahook_messages_read_total: 'COUNTER',
      wahook_messages_failed_total: 'COUNTER',
      wahook_disconnects_total: 'COUNTER',
      wahook_send_gap_seconds: 'HISTOGRAM',
      wahook_queue_depth: 'GAUGE',
      wahook_queue_oldest_age_seconds: 'GAUGE',
      wahook_quota_used_units: 'GAUGE',
      wahook_quota_left_units: 'GAUGE',
      wahook_account_state: 'GAUGE',
      wahook_account_paused: 'GAUGE',
    });
    for (const [name, { help }] of scrape.families) expect([name, help.length > 20]).toEqual([name, true]);
  });

  it('counts webhook calls by status', () => {
    expect(scrape.named('wahook_webhook_calls_total')).toEqual([
      { name: 'wahook_webhook_calls_total', labels: { status: '200' }, value: 5 },
      { name: 'wahook_webhook_calls_total', labels: { status: '400' }, value: 1 },
      { name: 'wahook_webhook_calls_total', labels: { status: '404' }, value: 1 },
      { name: 'wahook_webhook_calls_total', labels: { status: '405' }, value: 1 },
    ]);
  });

  it('counts messages accepted, sent, delivered and read per account', () => {
    expect(scrape.value('wahook_messages_accepted_total', { account: A.id })).toBe(4);
    expect(scrape.value('wahook_messages_accepted_total', { account: B.id })).toBe(1);
    expect(scrape.named('wahook_messages_sent_total')).toEqual([{ name: 'wahook_messages_sent_total', labels: { account: A.id }, value: 2 }]);
    expect(scrape.named('wahook_messages_delivered_total')).toEqual([{ name: 'wahook_messages_delivered_total', labels: { account: A.id }, value: 1 }]);
    expect(scrape.named('wahook_messages_read_total')).toEqual([{ name: 'wahook_messages_read_total', labels: { account: A.id }, value: 1 }]);
  });

  it('counts failures by a fixed cause and account, never by the sentence', () => {
    expect(scrape.named('wahook_messages_failed_total')).toEqual([
      { name: 'wahook_messages_failed_total', labels: { account: A.id, reason: 'not_on_whatsapp' }, value: 1 },
      { name: 'wahook_messages_failed_total', labels: { account: A.id, reason: 'send_refused' }, value: 1 },
      { name: 'wahook_messages_failed_total', labels: { account: A.id, reason: 'rejected_by_whatsapp' }, value: 1 },
    ]);
  });

  it('counts disconnects by code (none: a close without one)', () => {
    expect(scrape.named('wahook_disconnects_total')).toEqual([
      { name: 'wahook_disconnects_total', labels: { account: A.id, code: '428' }, value: 1 },
      { name: 'wahook_disconnects_total', labels: { account: A.id, code: '515' }, value: 1 },
      { name: 'wahook_disconnects_total', labels: { account: A.id, code: 'none' }, value: 1 },
    ]);
  });

  it('has the gaps between the starts of sends as a histogram: three sends, two gaps', () => {
    expect(scrape.value('wahook_send_gap_seconds_count', { account: A.id })).toBe(2);
    expect(scrape.value('wahook_send_gap_seconds_bucket', { account: A.id, le: '+Inf' })).toBe(2);
    expect(scrape.value('wahook_send_gap_seconds_sum', { account: A.id })).toBeGreaterThanOrEqual(0.002);
    const buckets = scrape.named('wahook_send_gap_seconds_bucket').map((each) => each.labels.le);
    expect(buckets).toEqual(['0.25', '0.5', '1', '1.5', '2', '2.5', '3', '5', '10', '30', '60', '300', '900', '+Inf']);
  });

  it('reads queue depth and the oldest waiting message\'s age per account from the store', () => {
    expect(scrape.named('wahook_queue_depth')).toEqual([
      { name: 'wahook_queue_depth', labels: { account: A.id }, value: 0 },
      { name: 'wahook_queue_depth', labels: { account: B.id }, value: 1 },
    ]);
    expect(scrape.value('wahook_queue_oldest_age_seconds', { account: A.id })).toBe(0);
    expect(scrape.value('wahook_queue_oldest_age_seconds', { account: B.id })).toBe((clock - T0) / 1000);
  });

  it('has the quota used and left (failed messages gave their units back)', () => {
    expect(scrape.value('wahook_quota_used_units')).toBe(2);
    expect(scrape.value('wahook_quota_left_units')).toBe(98);
  });

  it('has each account\'s state as 1 among its states', () => {
    for (const [account, current] of [[A.id, 'open'], [B.id, 'reconnecting']] as const) {
      expect(STATES.map((state) => [state, scrape.value('wahook_account_state', { account, state })])).toEqual(STATES.map((state) => [state, state === current ? 1 : 0]));
    }
  });

  it('has no paused series while no account is paused', () => {
    expect(scrape.named('wahook_account_paused')).toEqual([]);
  });

  it('keeps its registry to itself: prom-client\'s global registry has none of it', async () => {
    expect(await register.metrics()).not.toContain('wahook_');
    const other = await openTestWorkspace();
    try {
      const text = (await other.workspace.metricsText()).text;
      expect(readScrape(text).named('wahook_messages_accepted_total')).toEqual([]);
      expect(readScrape(text).named('wahook_webhook_calls_total')).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('reported no error', () => {
    expect(errors.map(String)).toEqual([]);
  });
});

describe('health', () => {
  it('is ok when the store answers and every account is open, degraded when one is not, down when the store is gone', async () => {
    const dir = tempDir();
    const store = new SqliteStore({ path: join(dir.path, 'workspace.sqlite') });
    await store.accounts.put(A);
    const transport = new FakeTransport();
    const workspace = await Workspace.open({ store, openTransport: () => transport });
    try {
      await workspace.addDryRunAccount('15105566000');
      expect(await workspace.health()).toEqual({
        status: 'ok',
        store: 'reachable',
        accounts: [
          { id: A.id, phone: A.phone, state: 'open' },
          { id: 'dry-run-15105566000', phone: '15105566000', state: 'open' },
        ],
      });
      transport.setState('logged_out');
      expect(await workspace.health()).toMatchObject({ status: 'degraded', store: 'reachable' });
      await store.close();
      expect(await workspace.health()).toEqual({
        status: 'down',
        store: 'The workspace is closing or being reopened.',
        accounts: [
          { id: A.id, phone: A.phone, state: 'logged_out' },
          { id: 'dry-run-15105566000', phone: '15105566000', state: 'open' },
        ],
      });
      await expect(workspace.metricsText()).rejects.toThrow();
    } finally {
      await workspace.close().catch(() => undefined);
      dir.cleanup();
    }
  });
});

describe('metrics: a paused account', () => {
  it('is one wahook_account_paused series with the reason the editors show, gone once the pause ends', async () => {
    const dir = tempDir();
    const reason = 'WhatsApp restricted this account from starting new chats: it refused messages to 2 different contacts within an hour (error 463).';
    const transport = new (class extends FakeTransport {
      paused = true;
      override isReady(): boolean {
        return !this.paused;
      }
      connectionInfo() {
        return this.paused ? { detail: reason, pausedUntil: 1_900_000_000_000, pauseReason: reason } : { detail: null, pausedUntil: null, pauseReason: null };
      }
    })();
    transport.state = 'paused';
    const store = new SqliteStore({ path: join(dir.path, 'w.sqlite') });
    await store.accounts.put(A);
    const workspace = await Workspace.open({ store, openTransport: () => transport });
    try {
      expect(readScrape((await workspace.metricsText()).text).named('wahook_account_paused')).toEqual([{ name: 'wahook_account_paused', labels: { account: A.id, reason }, value: 1 }]);
      transport.paused = false;
      transport.setState('open');
      expect(readScrape((await workspace.metricsText()).text).named('wahook_account_paused')).toEqual([]);
    } finally {
      await workspace.close();
      dir.cleanup();
    }
  });
});
