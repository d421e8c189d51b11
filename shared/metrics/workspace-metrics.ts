import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FAILURE_CAUSES, type AccountState, type FailureCause, type MessageChange, type QuotaState } from '../model';
import type { AccountQueue } from '../store/types';

/** Every account state, for the state gauge (one series per state, 1 for the current one); `unknown`: not connected by this process. */
export const METRIC_ACCOUNT_STATES = ['linking', 'connecting', 'open', 'reconnecting', 'logged_out', 'replaced', 'paused', 'unknown'] as const satisfies readonly (AccountState | 'unknown')[];

/** Upper bounds of the send-gap histogram, in seconds: the default pacing (1.5–2.5 s) and caps' long waits. */
export const SEND_GAP_BUCKETS = [0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5, 10, 30, 60, 300, 900];

/** What the metrics read at scrape time (the workspace gives them). */
export interface MetricsSources {
  /** Every account with its state as this process knows it (null: not connected here). */
  accounts(): readonly { readonly id: string; readonly state: AccountState | null; readonly pauseReason?: string | null }[];
  /** Waiting messages per account, from the store. */
  queues(): Promise<ReadonlyMap<string, AccountQueue>>;
  quota(): Promise<QuotaState>;
  now(): number;
}

/**
 * One workspace's Prometheus metrics, in a registry of its own (never prom-client's global one: a process
 * may host several workspaces, and tests open many). Counters count what this process did (calls it
 * answered, messages it accepted, sent, saw delivered, read or failed, its connections' disconnects, its
 * send gaps); gauges are read from the store and the connections at each scrape. Every label is bounded:
 * an account id, an HTTP status, a state, a failure cause or a disconnect code, never a sentence — but
 * for a pause's reason, which alerts must show: one series per paused account, gone when the pause ends.
 */
export class WorkspaceMetrics {
  readonly registry = new Registry();
  private readonly webhookCalls: Counter<'status'>;
  private readonly cloudApiWebhookCalls: Counter<'status'>;
  private readonly accepted: Counter<'account'>;
  private readonly sent: Counter<'account'>;
  private readonly delivered: Counter<'account'>;
  private readonly read: Counter<'account'>;
  private readonly failed: Counter<'account' | 'reason'>;
  private readonly disconnects: Counter<'account' | 'code'>;
  private readonly sendGaps: Histogram<'account'>;
  private readonly queueDepth: Gauge<'account'>;
  private readonly queueOldest: Gauge<'account'>;
  private readonly quotaUsed: Gauge;
  private readonly quotaLeft: Gauge;
  private readonly accountState: Gauge<'account' | 'state'>;
  private readonly accountPaused: Gauge<'account' | 'reason'>;
  /** Scrapes one at a time: each writes the gauges, then reads them all. */
  private scraping: Promise<unknown> = Promise.resolve();

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
    this.webhookCalls = counter('wahook_webhook_calls_total', 'Webhook calls this process answered, by HTTP status.', ['status']);
    this.cloudApiWebhookCalls = counter(
      'wahook_cloud_api_webhook_calls_total',
      "Calls at the WhatsApp Cloud API webhook (Meta's verification and events) this process answered, by HTTP status; 401 is a signature refused, 403 a verify token refused.",
      ['status'],
    );
    this.accepted = counter('wahook_messages_accepted_total', 'Messages accepted into the outbox by this process (a text with a file is two).', ['account']);
    this.sent = counter('wahook_messages_sent_total', 'Messages this process handed to WhatsApp.', ['account']);
    this.delivered = counter('wahook_messages_delivered_total', "Delivery receipts this process recorded (the recipient's phone has the message).", ['account']);
    this.read = counter('wahook_messages_read_total', 'Read receipts this process recorded.', ['account']);
    this.failed = counter(
      'wahook_messages_failed_total',
      `Messages this process failed, by cause: ${FAILURE_CAUSES.join(', ')} (other: a cause this process did not learn).`,
      ['account', 'reason'],
    );
    this.disconnects = counter(
      'wahook_disconnects_total',
      "Connections that closed on their own, by the service's disconnect code (none: no code). Each is followed by a reconnect unless the code is a logout (401, 403, 411, 419) or a replacement (440).",
      ['account', 'code'],
    );
    this.sendGaps = new Histogram({
      name: 'wahook_send_gap_seconds',
      help: "Time between the starts of two consecutive sends of an account (the pacing's gap, or longer when the queue was empty).",
      labelNames: ['account'],
      buckets: SEND_GAP_BUCKETS,
      registers,
    });
    this.queueDepth = gauge('wahook_queue_depth', 'Messages waiting to be sent (queued or sending), per account.', ['account']);
    this.queueOldest = gauge('wahook_queue_oldest_age_seconds', 'Age of the oldest waiting message, per account (0 when none waits).', ['account']);
    this.quotaUsed = gauge('wahook_quota_used_units', 'Quota units reserved or spent in the current period.', []);
    this.quotaLeft = gauge('wahook_quota_left_units', 'Quota units still available in the current period.', []);
    this.accountState = gauge('wahook_account_state', 'Account connection state: 1 for the current state, 0 for the others (unknown: not connected by this process).', [
      'account',
      'state',
    ]);
    this.accountPaused = gauge('wahook_account_paused', 'A paused account (1), with the pause\'s reason as the editors show it; absent when not paused.', ['account', 'reason']);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  webhookAnswered(status: number): void {
    this.webhookCalls.inc({ status: statusLabel(status) });
  }

  cloudApiWebhookAnswered(status: number): void {
    this.cloudApiWebhookCalls.inc({ status: statusLabel(status) });
  }

  messagesAccepted(accountId: string, count: number): void {
    this.accepted.inc({ account: accountId }, count);
  }

  /** A change this process made (queued ones are counted at acceptance; requeues are no news here). */
  messageChanged(change: MessageChange): void {
    const account = change.accountId;
    switch (change.status) {
      case 'sent':
        this.sent.inc({ account });
        return;
      case 'delivered':
        this.delivered.inc({ account });
        return;
      case 'read':
        this.read.inc({ account });
        return;
      case 'failed':
        this.failed.inc({ account, reason: causeLabel(change.cause) });
        return;
      default:
        return;
    }
  }

  disconnected(accountId: string, code: number | null): void {
    this.disconnects.inc({ account: accountId, code: codeLabel(code) });
  }

  sendStarted(accountId: string, gapMs: number | null): void {
    if (gapMs !== null) this.sendGaps.observe({ account: accountId }, gapMs / 1000);
  }

  /** The Prometheus text: the gauges read now (rejects when the store does not answer). */
  text(): Promise<string> {
    const scrape = this.scraping.then(async () => {
      await this.collect();
      return this.registry.metrics();
    });
    this.scraping = scrape.catch(() => undefined);
    return scrape;
  }

  private async collect(): Promise<void> {
    const accounts = this.sources.accounts();
    const [queues, quota] = await Promise.all([this.sources.queues(), this.sources.quota()]);
    const now = this.sources.now();
    this.queueDepth.reset();
    this.queueOldest.reset();
    this.accountState.reset();
    this.accountPaused.reset();
    const ids = new Set([...accounts.map((account) => account.id), ...queues.keys()]);
    for (const account of ids) {
      const queue = queues.get(account);
      this.queueDepth.set({ account }, queue?.waiting ?? 0);
      this.queueOldest.set({ account }, queue ? Math.max(0, now - queue.oldestAcceptedAt) / 1000 : 0);
    }
    for (const { id, state } of accounts) {
      const current = state ?? 'unknown';
      for (const each of METRIC_ACCOUNT_STATES) this.accountState.set({ account: id, state: each }, each === current ? 1 : 0);
    }
    for (const { id, state, pauseReason } of accounts) {
      if (state === 'paused') this.accountPaused.set({ account: id, reason: pauseReason ?? 'paused' }, 1);
    }
    this.quotaUsed.set(quota.used);
    this.quotaLeft.set(quota.available);
  }
}

/** An HTTP status as a label: three digits, anything else `other` (it never is). */
function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';
}

function causeLabel(cause: FailureCause | undefined): string {
  return cause !== undefined && (FAILURE_CAUSES as readonly string[]).includes(cause) ? cause : 'other';
}

/** A disconnect code as a label: a whole number up to four digits (Baileys' are HTTP-like), `none`, or `other`. */
function codeLabel(code: number | null): string {
  if (code === null) return 'none';
  return Number.isInteger(code) && code >= 0 && code <= 9999 ? String(code) : 'other';
}
