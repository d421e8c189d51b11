import type { QuotaState } from '../../model';
import type { QuotaPolicy, QuotaRepository } from '../types';
import type { PgDatabase, Queryable, Transaction } from './database';
import { quotaState } from '../quota-state';

/** A period's row as the ledger keeps it; a period nobody has used yet has used nothing and no top-ups. */
export interface PeriodRow {
  period_key: string;
  used: number;
  extra: number;
}

/**
 * The quota ledger: one row per period with the units used and the manual top-ups. A failed message
 * gives its unit back to the period it was reserved in, once its refund is due. Whoever applies refunds
 * or reserves units holds the schema's ledger lock, so several processes apply each refund once and
 * never reserve the same units twice.
 */
export class PostgresQuotaRepository implements QuotaRepository {
  private readonly anyDue: string;
  private readonly applyDue: string;
  private readonly pending: string;
  private readonly selectPeriod: string;
  private readonly lockPeriods: string;
  private readonly addUsed: string;
  private readonly addExtra: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    this.anyDue = `SELECT 1 AS due FROM ${s}.refunds WHERE due_at <= $1 LIMIT 1`;
    // Deleting the due refunds and subtracting them is one statement: a refund is applied exactly once.
    this.applyDue = `WITH due AS (DELETE FROM ${s}.refunds WHERE due_at <= $1 RETURNING period_key, units),
         by_period AS (SELECT period_key, sum(units)::bigint AS units FROM due GROUP BY period_key)
       UPDATE ${s}.quota_periods q SET used = greatest(0, q.used - by_period.units)
       FROM by_period WHERE q.period_key = by_period.period_key`;
    this.pending = `SELECT coalesce(sum(units), 0)::bigint AS n FROM ${s}.refunds`;
    this.selectPeriod = `SELECT period_key, used, extra FROM ${s}.quota_periods WHERE period_key = $1`;
    this.lockPeriods = `SELECT period_key, used, extra FROM ${s}.quota_periods WHERE period_key = ANY($1::text[]) FOR UPDATE`;
    this.addUsed = `INSERT INTO ${s}.quota_periods AS q (period_key, used)
       SELECT * FROM unnest($1::text[], $2::bigint[])
       ON CONFLICT (period_key) DO UPDATE SET used = q.used + excluded.used`;
    this.addExtra = `INSERT INTO ${s}.quota_periods AS q (period_key, extra) VALUES ($1, $2)
       ON CONFLICT (period_key) DO UPDATE SET extra = q.extra + excluded.extra`;
  }

  async state(policy: QuotaPolicy, periodKey: string, now: number): Promise<QuotaState> {
    return this.db.transaction(async (tx) => {
      await this.applyDueRefundsWithin(tx, now);
      const [row] = await tx.rows<PeriodRow>(this.selectPeriod, [periodKey]);
      const { used, extra } = row ?? { used: 0, extra: 0 };
      const [{ n: pendingRefunds }] = (await tx.rows<{ n: number }>(this.pending)) as [{ n: number }];
      return quotaState(policy, periodKey, extra, used, pendingRefunds);
    });
  }

  async topUp(units: number, periodKey: string): Promise<void> {
    // One statement on the period's row: it waits for a reservation holding the row, and adds to what it left.
    await this.db.run(this.addExtra, [periodKey, units]);
  }

  /** Gives back refunds due at `now`, taking the ledger lock only when some are due. */
  async applyDueRefundsWithin(tx: Transaction, now: number): Promise<void> {
    if ((await tx.rows(this.anyDue, [now])).length === 0) return;
    await this.db.lock(tx, 'ledger');
    await tx.run(this.applyDue, [now]);
  }

  /** The periods' rows, locked until the commit (the caller holds the ledger lock); missing ones are absent. */
  async lockPeriodsWithin(tx: Queryable, periodKeys: readonly string[]): Promise<Map<string, PeriodRow>> {
    const rows = await tx.rows<PeriodRow>(this.lockPeriods, [periodKeys]);
    return new Map(rows.map((row) => [row.period_key, row]));
  }

  /** Charges accepted units to their periods, inside the accept commit. */
  async chargeWithin(tx: Queryable, charges: ReadonlyMap<string, number>): Promise<void> {
    if (charges.size === 0) return;
    await tx.run(this.addUsed, [[...charges.keys()], [...charges.values()]]);
  }
}
