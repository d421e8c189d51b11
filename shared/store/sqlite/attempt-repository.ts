import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Attempt, NewAttempt } from '../../model';
import { ATTEMPT_LOG_SIZE, type AttemptRepository } from '../types';
import { toAttempt, type AttemptRow } from '../rows';


export class SqliteAttemptRepository implements AttemptRepository {
  private readonly insert: StatementSync;
  private readonly trim: StatementSync;
  private readonly selectRecent: StatementSync;
  private readonly updateOutcome: StatementSync;

  /** `settle` drains the intake first, where accepted requests' attempts wait. */
  constructor(
    db: DatabaseSync,
    private readonly settle: () => void,
  ) {
    this.insert = db.prepare(
      'INSERT INTO attempts (at, remote_address, request, status, response, message_id, notes) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.trim = db.prepare('DELETE FROM attempts WHERE seq <= ?');
    this.selectRecent = db.prepare('SELECT * FROM attempts ORDER BY seq DESC LIMIT ?');
    this.updateOutcome = db.prepare('UPDATE attempts SET outcome = ?, outcome_at = ? WHERE message_id = ?');
  }

  async add(attempt: NewAttempt): Promise<number> {
    this.settle();
    return this.addWithin(attempt);
  }

  /** Logs an attempt and drops those beyond the last 100. */
  addWithin(attempt: NewAttempt): number {
    const seq = this.insertWithin(attempt);
    this.trimWithin(seq);
    return seq;
  }

  /** Logs an attempt without trimming; the drain trims once per batch. */
  insertWithin(attempt: NewAttempt): number {
    const seq = Number(
      this.insert.run(
        attempt.at,
        attempt.remoteAddress,
        attempt.request,
        attempt.status,
        attempt.response,
        attempt.messageId,
        attempt.notes,
      ).lastInsertRowid,
    );
    return seq;
  }

  /** Drops every attempt older than the last 100, `newest` being the newest attempt's seq. */
  trimWithin(newest: number): void {
    if (newest > ATTEMPT_LOG_SIZE) this.trim.run(newest - ATTEMPT_LOG_SIZE);
  }

  async list(limit: number): Promise<Attempt[]> {
    this.settle();
    const rows = this.selectRecent.all(Math.min(limit, ATTEMPT_LOG_SIZE)) as unknown as AttemptRow[];
    return rows.map(toAttempt);
  }

  async setOutcome(requestId: string, outcome: string, at: number): Promise<void> {
    this.settle();
    this.updateOutcome.run(outcome, at, requestId);
  }
}
