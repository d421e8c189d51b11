import type { AcceptInput, AcceptOutcome } from '../types';
import type { PostgresAttemptRepository } from './attempt-repository';
import type { PgDatabase, Transaction } from './database';
import type { AcceptedMessage, PostgresOutboxRepository } from './outbox-repository';
import type { PostgresQuotaRepository } from './quota-repository';

interface PendingAccept {
  readonly input: AcceptInput;
  readonly resolve: (outcome: AcceptOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** At most this many requests share one commit; more wait for the next. */
const MAX_BATCH = 256;

/**
 * Group commit for `accept`: requests that arrive while the previous commit is in flight (or in the same
 * turn of the event loop) are reserved in one transaction, so they share one commit and one round of
 * statements; each caller's promise resolves only after that COMMIT. Across processes, every accept
 * commit holds the schema's ledger lock: reservations never overspend, and messages get seqs in commit
 * order.
 */
export class AcceptBatcher {
  private pending: PendingAccept[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly db: PgDatabase,
    private readonly outbox: PostgresOutboxRepository,
    private readonly attempts: PostgresAttemptRepository,
    private readonly quota: PostgresQuotaRepository,
  ) {}

  accept(input: AcceptInput): Promise<AcceptOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight || this.scheduled) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight) return;
    const batch = this.pending.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.inFlight = this.db
      .transaction((tx) => this.commit(tx, batch.map(({ input }) => input)))
      .then(
        (outcomes) => batch.forEach(({ resolve }, i) => resolve(outcomes[i]!)),
        (error: unknown) => batch.forEach(({ reject }) => reject(error)),
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.pending.length > 0) this.schedule();
      });
  }

  /**
   * Reserves the batch's units in order of arrival and writes what was accepted. Under the ledger lock,
   * each period's row is read once and counted down in memory, as the SQLite store's batch does.
   */
  private async commit(tx: Transaction, inputs: readonly AcceptInput[]): Promise<AcceptOutcome[]> {
    await this.db.lock(tx, 'ledger');
    // The store has no clock of its own: the batch's earliest request tells the time, so a refund is
    // never counted before it is due for any request in it.
    await this.quota.applyDueRefundsWithin(tx, Math.min(...inputs.map((input) => input.now)));
    const periods = await this.quota.lockPeriodsWithin(tx, [...new Set(inputs.map((input) => input.periodKey))]);
    const left = new Map<string, number>();
    const charges = new Map<string, number>();
    const messages: AcceptedMessage[] = [];
    const accepted: AcceptInput[] = [];
    const outcomes = inputs.map((input): AcceptOutcome => {
      const key = `${input.periodKey}\n${input.quota.allowance}`;
      const period = periods.get(input.periodKey) ?? { used: 0, extra: 0 };
      const available = left.get(key) ?? Math.max(0, input.quota.allowance + period.extra - period.used);
      if (input.units > available) {
        left.set(key, available);
        return { accepted: false, available, needed: input.units };
      }
      left.set(key, available - input.units);
      charges.set(input.periodKey, (charges.get(input.periodKey) ?? 0) + input.units);
      for (const message of input.messages) messages.push({ message, periodKey: input.periodKey, now: input.now });
      accepted.push(input);
      return { accepted: true };
    });
    if (accepted.length === 0) return outcomes;
    await this.outbox.insertWithin(tx, messages);
    for (const input of accepted) for (const attachment of input.attachments ?? []) await this.outbox.insertAttachmentWithin(tx, attachment);
    await this.attempts.insertWithin(tx, accepted.map((input) => input.attempt));
    await this.attempts.trimWithin(tx);
    await this.quota.chargeWithin(tx, charges);
    return outcomes;
  }

  /** Commits every request still waiting (the store is closing); resolves once they are all answered. */
  async close(): Promise<void> {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.inFlight || this.pending.length > 0) {
      if (!this.inFlight) this.flush();
      await this.inFlight;
    }
  }
}
