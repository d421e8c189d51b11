import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { QuotaState } from '../../model';
import type { QuotaPolicy, QuotaRepository } from '../types';
import { inTransaction } from './database';
import { AVAILABLE_UNITS_SQL } from './quota-sql';
import { quotaState } from '../quota-state';

/**
 * The quota ledger: one row per period with the units used and the manual top-ups. A failed message
 * gives its unit back to the period it was reserved in, once its refund is due.
 */
export class SqliteQuotaRepository implements QuotaRepository {
  private readonly anyDue: StatementSync;
  private readonly applyDue: StatementSync;
  private readonly deleteDue: StatementSync;
  private readonly pending: StatementSync;
  private readonly selectPeriod: StatementSync;
  private readonly ensurePeriod: StatementSync;
  private readonly addUsed: StatementSync;
  private readonly addExtra: StatementSync;
  private readonly available: StatementSync;

  /** `settle` drains the intake first, so the ledger includes every accepted request. */
  constructor(
    private readonly db: DatabaseSync,
    private readonly settle: () => void,
  ) {
    this.available = db.prepare(`SELECT max(0, ${AVAILABLE_UNITS_SQL}) AS n`);
    this.anyDue = db.prepare('SELECT 1 FROM refunds WHERE due_at <= ? LIMIT 1');
    this.applyDue = db.prepare(
      `UPDATE quota_periods SET used = max(0, used - (
         SELECT coalesce(sum(units), 0) FROM refunds r WHERE r.period_key = quota_periods.period_key AND r.due_at <= $now))
       WHERE period_key IN (SELECT period_key FROM refunds WHERE due_at <= $now)`,
    );
    this.deleteDue = db.prepare('DELETE FROM refunds WHERE due_at <= ?');
    this.pending = db.prepare('SELECT coalesce(sum(units), 0) AS n FROM refunds');
    this.selectPeriod = db.prepare('SELECT used, extra FROM quota_periods WHERE period_key = ?');
    this.ensurePeriod = db.prepare('INSERT OR IGNORE INTO quota_periods (period_key) VALUES (?)');
    this.addUsed = db.prepare('UPDATE quota_periods SET used = used + ? WHERE period_key = ?');
    this.addExtra = db.prepare('UPDATE quota_periods SET extra = extra + ? WHERE period_key = ?');
  }

  async state(policy: QuotaPolicy, periodKey: string, now: number): Promise<QuotaState> {
    this.settle();
    return inTransaction(this.db, () => {
      this.applyDueRefunds(now);
      const { used, extra } = this.period(periodKey);
      const { n: pendingRefunds } = this.pending.get() as { n: number };
      return quotaState(policy, periodKey, extra, used, pendingRefunds);
    });
  }

  async topUp(units: number, periodKey: string): Promise<void> {
    inTransaction(this.db, () => {
      this.ensurePeriod.run(periodKey);
      this.addExtra.run(units, periodKey);
    });
  }

  /** Units the period has now, as the reservation counts them (for the 429 sentence). */
  availableUnits(policy: QuotaPolicy, periodKey: string, now: number): number {
    return (this.available.get(periodKey, policy.allowance, now) as { n: number }).n;
  }

  /** Gives back refunds that are due; runs inside the drain's transaction. */
  applyDueRefundsWithin(now: number): void {
    this.applyDueRefunds(now);
  }

  /** Charges drained requests to their period; runs inside the drain's transaction. */
  chargeWithin(periodKey: string, units: number): void {
    this.ensurePeriod.run(periodKey);
    this.addUsed.run(units, periodKey);
  }

  private applyDueRefunds(now: number): void {
    if (!this.anyDue.get(now)) return;
    this.applyDue.run({ now });
    this.deleteDue.run(now);
  }

  /** The period's row; a period nobody has used yet has used nothing and no top-ups. */
  private period(periodKey: string): { used: number; extra: number } {
    return (this.selectPeriod.get(periodKey) as { used: number; extra: number } | undefined) ?? { used: 0, extra: 0 };
  }
}
