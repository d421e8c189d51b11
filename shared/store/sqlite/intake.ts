import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { NewAttempt } from '../../model';
import type { NewMessage } from '../types';
import type { SqliteAttemptRepository } from './attempt-repository';
import { inTransaction } from './database';
import { AVAILABLE_UNITS_SQL } from './quota-sql';
import type { SqliteOutboxRepository } from './outbox-repository';
import type { SqliteQuotaRepository } from './quota-repository';

/** One accepted request as the intake keeps it until the drain. */
interface IntakeEntry {
  readonly messages: readonly NewMessage[];
  readonly attempt: NewAttempt;
  readonly now: number;
}

/** An accepted request with the period it was charged to, ready for messages, attempts and the ledger. */
export interface AcceptedRequest extends IntakeEntry {
  readonly periodKey: string;
  readonly units: number;
}

interface IntakeRow {
  seq: number;
  period_key: string;
  units: number;
  payload: string;
}

/** How long accepted requests may wait in the intake before a drain moves them, unless a reader needs them first. */
const DRAIN_DELAY_MS = 20;
/** The intake is drained at this many rows even before the delay, so it stays small to scan. */
const DRAIN_BATCH = 64;
/** After a drain the store refused, try again in this long. */
const DRAIN_RETRY_MS = 1_000;

/**
 * The accept path's journal. A request accepted alone writes one intake row (one page) in the commit
 * that precedes the 200 answer; the drain later moves many rows at once into the indexed messages and
 * attempts tables, so index maintenance is paid per batch rather than per request. Concurrent requests
 * already share one commit, so they skip the journal (recordWithin). Every reader of those tables
 * drains first, so no caller ever sees the difference.
 */
export class IntakeJournal {
  private readonly insert: StatementSync;
  private readonly anyPending: StatementSync;
  private readonly selectAll: StatementSync;
  private readonly deleteUpTo: StatementSync;
  private timer: NodeJS.Timeout | undefined;
  /** Rows this process appended since its last drain. */
  private appended = 0;

  constructor(
    private readonly db: DatabaseSync,
    private readonly outbox: SqliteOutboxRepository,
    private readonly attempts: SqliteAttemptRepository,
    private readonly quota: SqliteQuotaRepository,
  ) {
    // The reservation is this one statement: it inserts only if the period can cover the units, and a
    // single statement is atomic without BEGIN/COMMIT, which would cost as much as the insert itself.
    this.insert = db.prepare(
      `INSERT INTO intake (period_key, units, payload) SELECT ?1, ?4, ?5 WHERE ${AVAILABLE_UNITS_SQL} >= ?4`,
    );
    this.anyPending = db.prepare('SELECT 1 FROM intake LIMIT 1');
    this.selectAll = db.prepare('SELECT * FROM intake ORDER BY seq');
    this.deleteUpTo = db.prepare('DELETE FROM intake WHERE seq <= ?');
  }

  /**
   * Reserves `units` of the period and records the request, if the period can cover them, in one
   * atomic statement. Returns false (nothing written) when it cannot.
   */
  reserve(periodKey: string, allowance: number, units: number, entry: IntakeEntry): boolean {
    if (this.insert.run(periodKey, allowance, entry.now, units, JSON.stringify(entry)).changes === 0) return false;
    this.recorded();
    return true;
  }

  private recorded(): void {
    this.appended++;
    this.timer ??= setTimeout(() => this.drainSoon(), DRAIN_DELAY_MS);
  }

  /**
   * A drain no caller waits for (a timer, after a batch). If the store fails now (a full disk), the rows
   * stay in the intake and it tries again; the next reader's own drain meets the same error and reports
   * it, so nothing is lost and nothing throws where no one could catch it.
   */
  drainSoon(): void {
    try {
      this.drain();
    } catch {
      this.timer = setTimeout(() => this.drainSoon(), DRAIN_RETRY_MS);
    }
  }

  /** Whether enough rows wait that the caller should drain now, after its own commit. */
  get full(): boolean {
    return this.appended >= DRAIN_BATCH;
  }

  /** Moves every pending request into messages, attempts and the quota ledger, in one transaction. */
  drain(): void {
    this.cancelTimer();
    if (!this.db.isOpen || !this.anyPending.get()) return;
    inTransaction(this.db, () => this.moveWithin());
  }

  /**
   * Moves pending requests inside the caller's transaction, if this process appended any since its last
   * drain (a batch that writes straight to messages calls this first, so queue order stays arrival order).
   */
  drainWithin(): void {
    if (this.appended === 0) return;
    this.cancelTimer();
    this.moveWithin();
  }

  /** Writes accepted requests to messages, attempts and the quota ledger; the caller holds the transaction. */
  recordWithin(entries: readonly AcceptedRequest[]): void {
    if (entries.length === 0) return;
    const charges = new Map<string, number>();
    let latest = 0;
    let newestAttempt = 0;
    for (const entry of entries) {
      latest = Math.max(latest, entry.now);
      for (const message of entry.messages) this.outbox.insertWithin(message, entry.periodKey, entry.now);
      newestAttempt = this.attempts.insertWithin(entry.attempt);
      charges.set(entry.periodKey, (charges.get(entry.periodKey) ?? 0) + entry.units);
    }
    this.attempts.trimWithin(newestAttempt);
    for (const [periodKey, units] of charges) this.quota.chargeWithin(periodKey, units);
    // The store has no clock of its own: the newest accepted request tells the time.
    this.quota.applyDueRefundsWithin(latest);
  }

  private moveWithin(): void {
    const rows = this.selectAll.all() as unknown as IntakeRow[];
    if (rows.length === 0) return;
    this.recordWithin(rows.map((row) => ({ ...(JSON.parse(row.payload) as IntakeEntry), periodKey: row.period_key, units: row.units })));
    this.deleteUpTo.run(rows.at(-1)!.seq);
  }

  private cancelTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.appended = 0;
  }

  /** Drains what is left and cancels the pending drain, so closing leaves no timer behind. */
  close(): void {
    try {
      this.drain();
    } finally {
      // Rows a failing store kept stay in the intake file; the next open drains them.
      this.cancelTimer();
    }
  }
}
