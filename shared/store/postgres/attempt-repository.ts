import type { Attempt, NewAttempt } from '../../model';
import { ATTEMPT_LOG_SIZE, type AttemptRepository } from '../types';
import type { PgDatabase, Queryable } from './database';
import { toAttempt, type AttemptRow } from '../rows';


export class PostgresAttemptRepository implements AttemptRepository {
  private readonly insertMany: string;
  private readonly trim: string;
  private readonly selectRecent: string;
  private readonly updateOutcome: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    this.insertMany = `INSERT INTO ${s}.attempts (at, remote_address, request, status, response, message_id, notes)
       SELECT at, remote_address, request, status, response, message_id, notes
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[])
         WITH ORDINALITY AS a(at, remote_address, request, status, response, message_id, notes, ord)
       ORDER BY ord
       RETURNING seq`;
    // By rank, not by seq arithmetic: seqs of rolled-back inserts leave gaps.
    this.trim = `DELETE FROM ${s}.attempts WHERE seq < (SELECT seq FROM ${s}.attempts ORDER BY seq DESC OFFSET ${ATTEMPT_LOG_SIZE - 1} LIMIT 1)`;
    this.selectRecent = `SELECT * FROM ${s}.attempts ORDER BY seq DESC LIMIT $1`;
    this.updateOutcome = `UPDATE ${s}.attempts SET outcome = $1, outcome_at = $2 WHERE message_id = $3`;
  }

  async add(attempt: NewAttempt): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [seq] = await this.insertWithin(tx, [attempt]);
      await this.trimWithin(tx);
      return seq!;
    });
  }

  /** Logs attempts in order inside the caller's transaction (the accept commit); returns their seqs. */
  async insertWithin(tx: Queryable, attempts: readonly NewAttempt[]): Promise<number[]> {
    const rows = await tx.rows<{ seq: number }>(this.insertMany, [
      attempts.map((a) => a.at),
      attempts.map((a) => a.remoteAddress),
      attempts.map((a) => a.request),
      attempts.map((a) => a.status),
      attempts.map((a) => a.response),
      attempts.map((a) => a.messageId),
      attempts.map((a) => a.notes),
    ]);
    return rows.map((row) => row.seq);
  }

  /** Drops every attempt older than the last ATTEMPT_LOG_SIZE. */
  async trimWithin(tx: Queryable): Promise<void> {
    await tx.run(this.trim);
  }

  async list(limit: number): Promise<Attempt[]> {
    const rows = await this.db.rows<AttemptRow>(this.selectRecent, [Math.min(limit, ATTEMPT_LOG_SIZE)]);
    return rows.map(toAttempt);
  }

  async setOutcome(requestId: string, outcome: string, at: number): Promise<void> {
    await this.db.run(this.updateOutcome, [outcome, at, requestId]);
  }
}
