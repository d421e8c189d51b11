import { MESSAGE_STATUSES, type MessageEvent, type MessageStatus, type OutboxMessage, type ReceiptStatus } from '../../model';
import { type MessageRow, toMessage } from '../message-row';
import { RECEIPT_RANK } from '../receipt-rank';
import { FINAL_STATUSES, type AccountQueue, type NewMessage, type OutboxRepository, type StoredAttachment } from '../types';
import type { PgDatabase, Queryable } from './database';

/**
 * A request has at most two parts (its text, then its file), queued in one statement as consecutive
 * seqs (see schema.ts), and its id is its first part's id: its parts are found from that row by seq.
 */
const PARTS_PER_REQUEST = 2;

/** A new message with the period it was charged to and when it was accepted, as the accept commit inserts it. */
export interface AcceptedMessage {
  readonly message: NewMessage;
  readonly periodKey: string;
  readonly now: number;
}

/**
 * The statuses that are not final, as an SQL list: retention tests `status NOT IN` these, a condition no
 * index can serve, so the planner walks seq (the primary key) as the prune means to, not the queue index.
 */
const NOT_FINAL = MESSAGE_STATUSES.filter((status) => !(FINAL_STATUSES as readonly string[]).includes(status))
  .map((status) => `'${status}'`)
  .join(', ');

export class PostgresOutboxRepository implements OutboxRepository {
  private readonly insertMany: string;
  private readonly insertAttachment: string;
  private readonly selectAttachment: string;
  private readonly dropAttachment: string;
  private readonly dropAttachments: string;
  private readonly claim: string;
  private readonly dueAt: string;
  private readonly setSent: string;
  private readonly setJid: string;
  private readonly selectByProviderId: string;
  private readonly setQueued: string;
  private readonly delaySiblings: string;
  private readonly setFailed: string;
  private readonly addRefunds: string;
  private readonly lockStatus: string;
  private readonly setReceipt: string;
  private readonly recover: string;
  private readonly recoverAccount: string;
  private readonly selectOne: string;
  private readonly selectByRequest: string;
  private readonly selectHistory: string;
  private readonly countAll: string;
  private readonly countAccount: string;
  private readonly countSent: string;
  private readonly countQueue: string;
  private readonly countQueueByAccount: string;
  private readonly selectQueueByAccount: string;
  private readonly selectLastFailed: string;
  private readonly addEvent: string;
  private readonly addEvents: string;
  private readonly expire: string;
  private readonly oldestQueued: string;
  private readonly prune: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    // One statement for every message of an accept commit, in the order given (WITH ORDINALITY … ORDER BY):
    // under the ledger lock that is also seq order, with a request's parts consecutive.
    this.insertMany = `INSERT INTO ${s}.messages (id, request_id, account_id, part, recipient_field, recipient_value, jid, text,
         file_url, file_name, status, created_at, updated_at, not_before, period_key, feed, quoted_id)
       SELECT id, request_id, account_id, part, recipient_field, recipient_value, jid, text,
         file_url, file_name, 'queued', created_at, created_at, created_at, period_key, feed, quoted_id
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::text[], $11::bigint[], $12::text[], $13::text[], $14::text[])
         WITH ORDINALITY AS m(id, request_id, account_id, part, recipient_field, recipient_value, jid, text,
                              file_url, file_name, created_at, period_key, feed, quoted_id, ord)
       ORDER BY ord`;
    this.insertAttachment = `INSERT INTO ${s}.attachments (message_id, data, mimetype) VALUES ($1, $2, $3)`;
    this.selectAttachment = `SELECT message_id, data, mimetype FROM ${s}.attachments WHERE message_id = $1`;
    this.dropAttachment = `DELETE FROM ${s}.attachments WHERE message_id = $1`;
    this.dropAttachments = `DELETE FROM ${s}.attachments WHERE message_id = ANY($1::text[])`;
    // One statement: the claim, its owner check and its event commit together. SKIP LOCKED: a message
    // another process is claiming at this instant is passed over, never claimed twice.
    this.claim = `WITH next AS (
         SELECT seq FROM ${s}.messages
         WHERE account_id = $1 AND status = 'queued' AND not_before <= $2::bigint
           AND ($3::text IS NULL OR EXISTS (
             SELECT 1 FROM ${s}.ownership o WHERE o.account_id = $1 AND o.owner = $3 AND o.until > $2::bigint))
         ORDER BY seq LIMIT 1
         FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE ${s}.messages m SET status = 'sending', attempts = m.attempts + 1, updated_at = $2::bigint
         FROM next WHERE m.seq = next.seq AND m.status = 'queued'
         RETURNING m.*),
       logged AS (
         INSERT INTO ${s}.message_events (message_id, status, at, detail)
         SELECT id, 'sending', $2::bigint, 'attempt ' || attempts FROM claimed)
       SELECT * FROM claimed`;
    this.dueAt = `SELECT min(not_before) AS due FROM ${s}.messages WHERE account_id = $1 AND status = 'queued'`;
    this.setSent = `UPDATE ${s}.messages SET status = 'sent', jid = $2, provider_id = $4, sent_at = $3, updated_at = $3
       WHERE id = $1 AND status = 'sending'`;
    this.setJid = `UPDATE ${s}.messages SET jid = $2, provider_id = coalesce($4, provider_id), sent_at = coalesce(sent_at, $3)
       WHERE id = $1`;
    this.selectByProviderId = `SELECT id FROM ${s}.messages WHERE provider_id = $1`;
    this.setQueued = `UPDATE ${s}.messages SET status = 'queued', not_before = $2, updated_at = $3
       WHERE id = $1 AND status = 'sending' RETURNING request_id, seq`;
    // The file of a request must never overtake its text.
    this.delaySiblings = `UPDATE ${s}.messages SET not_before = greatest(not_before, $3)
       WHERE seq BETWEEN $1::bigint - ${PARTS_PER_REQUEST - 1} AND $1::bigint + ${PARTS_PER_REQUEST - 1}
         AND request_id = $2 AND status = 'queued'`;
    this.setFailed = `UPDATE ${s}.messages SET status = 'failed', reason = $2, updated_at = $3
       WHERE id = $1 AND status IN ('queued', 'sending', 'sent') RETURNING period_key`;
    this.addRefunds = `INSERT INTO ${s}.refunds (message_id, period_key, units, due_at)
       SELECT message_id, period_key, 1, $3::bigint FROM unnest($1::text[], $2::text[]) AS r(message_id, period_key)
       ON CONFLICT (message_id) DO NOTHING`;
    this.lockStatus = `SELECT status FROM ${s}.messages WHERE id = $1 FOR UPDATE`;
    this.setReceipt = `UPDATE ${s}.messages SET status = $2, sent_at = coalesce(sent_at, $3), updated_at = $3 WHERE id = $1`;
    this.recover = `WITH recovered AS (
         UPDATE ${s}.messages SET status = 'queued', updated_at = $1 WHERE status = 'sending' RETURNING id, seq)
       INSERT INTO ${s}.message_events (message_id, status, at, detail)
       SELECT id, 'queued', $1, 'recovered after a restart' FROM recovered ORDER BY seq`;
    this.recoverAccount = `WITH recovered AS (
         UPDATE ${s}.messages SET status = 'queued', updated_at = $1 WHERE account_id = $2 AND status = 'sending'
           AND ($3::text IS NULL OR EXISTS (
             SELECT 1 FROM ${s}.ownership o WHERE o.account_id = $2 AND o.owner = $3 AND o.until > $1::bigint))
         RETURNING id, seq)
       INSERT INTO ${s}.message_events (message_id, status, at, detail)
       SELECT id, 'queued', $1, 'recovered after a restart' FROM recovered ORDER BY seq`;
    this.selectOne = `SELECT * FROM ${s}.messages WHERE id = $1`;
    this.selectByRequest = `SELECT m.* FROM ${s}.messages request
       JOIN ${s}.messages m ON m.seq BETWEEN request.seq AND request.seq + ${PARTS_PER_REQUEST - 1} AND m.request_id = $1
       WHERE request.id = $1
       ORDER BY m.seq`;
    // Acceptance writes no event row (it keeps the accept commit small): created_at is the 'queued' event.
    this.selectHistory = `SELECT message_id, status, at, detail FROM (
         SELECT id AS message_id, 'queued' AS status, created_at AS at, NULL::text AS detail, 0::bigint AS ord FROM ${s}.messages WHERE id = $1
         UNION ALL
         SELECT message_id, status, at, detail, seq AS ord FROM ${s}.message_events WHERE message_id = $1) h
       ORDER BY ord`;
    this.countAll = `SELECT status, count(*) AS n FROM ${s}.messages GROUP BY status`;
    this.countAccount = `SELECT status, count(*) AS n FROM ${s}.messages WHERE account_id = $1 GROUP BY status`;
    this.countSent = `SELECT count(*) AS n FROM ${s}.messages WHERE account_id = $1 AND sent_at >= $2`;
    // Through the partial index of waiting messages, never the sent history.
    this.countQueue = `SELECT count(*) AS n FROM ${s}.messages WHERE status IN ('queued', 'sending')`;
    this.countQueueByAccount = `SELECT account_id, count(*) AS n FROM ${s}.messages WHERE status IN ('queued', 'sending') GROUP BY account_id`;
    // The oldest waiting message is the one of lowest seq (the order of acceptance), found through the queue index.
    this.selectQueueByAccount = `SELECT w.account_id, w.n, m.created_at AS oldest
       FROM (SELECT account_id, count(*) AS n, min(seq) AS first FROM ${s}.messages WHERE status IN ('queued', 'sending') GROUP BY account_id) w
       JOIN ${s}.messages m ON m.seq = w.first`;
    this.selectLastFailed = `SELECT * FROM ${s}.messages WHERE account_id = $1 AND status = 'failed' ORDER BY seq DESC LIMIT $2`;
    this.addEvent = `INSERT INTO ${s}.message_events (message_id, status, at, detail) VALUES ($1, $2, $3, $4)`;
    this.addEvents = `INSERT INTO ${s}.message_events (message_id, status, at, detail)
       SELECT message_id, $2::text, $3::bigint, $4::text FROM unnest($1::text[]) WITH ORDINALITY AS e(message_id, ord) ORDER BY ord`;
    this.expire = `UPDATE ${s}.messages SET status = 'failed', reason = $3, updated_at = $4
       WHERE account_id = $1 AND status = 'queued' AND created_at <= $2
       RETURNING *`;
    this.oldestQueued = `SELECT min(created_at) AS oldest FROM ${s}.messages WHERE account_id = $1 AND status = 'queued'`;
    // Whether row x may go (see OutboxRepository.pruneFinal). The newest row stays here too, though an
    // identity never hands a seq out twice: both stores then keep the same rows.
    // Every subquery is a scalar one on purpose: PostgreSQL turns NOT EXISTS into an anti join and a join
    // with the bound into a nested loop, and either way sorts every candidate before the limit (over a
    // second a batch measured at 300,000 rows); scalar subqueries stay lookups, so the scan walks seq in
    // order and stops at $2 rows. A request's other part is its neighbour by seq (PARTS_PER_REQUEST = 2),
    // looked up by equality: a range there would be costed as a third of the table.
    const prunable = (x: string) => `(${x}.status NOT IN (${NOT_FINAL}) AND ${x}.created_at < $1::bigint AND ${x}.updated_at < $1::bigint
      AND ${x}.seq < (SELECT seq FROM newest) AND (SELECT 1 FROM ${s}.refunds r WHERE r.message_id = ${x}.id) IS NULL)`;
    // One statement, its own commit. \`search\` bisects seq for the first message accepted at or after $1
    // (seq follows acceptance, so created_at increases with it): the scan stops there instead of reading
    // the whole history each round to find nothing more. SKIP LOCKED: a message another process is
    // changing at this instant is left for a later round.
    this.prune = `WITH RECURSIVE search(low, high) AS (
         SELECT min(seq), max(seq) + 1 FROM ${s}.messages
         UNION ALL
         SELECT CASE WHEN p.created_at >= $1::bigint THEN q.low ELSE p.seq + 1 END,
                CASE WHEN p.created_at >= $1::bigint THEN (q.low + q.high) / 2 ELSE q.high END
         FROM search q CROSS JOIN LATERAL (
           SELECT seq, created_at FROM ${s}.messages WHERE seq >= (q.low + q.high) / 2 ORDER BY seq LIMIT 1) p
         WHERE q.low < q.high),
       bound AS (SELECT coalesce(max(low), 0) AS seq FROM search),
       newest AS (SELECT max(seq) AS seq FROM ${s}.messages),
       doomed AS (
         SELECT m.seq, m.id FROM ${s}.messages m
         WHERE m.seq < (SELECT seq FROM bound) AND ${prunable('m')}
           AND (SELECT 1 FROM ${s}.messages o
                WHERE o.seq IN (m.seq - 1, m.seq + 1) AND o.request_id = m.request_id AND NOT ${prunable('o')} LIMIT 1) IS NULL
         ORDER BY m.seq LIMIT $2
         FOR UPDATE OF m SKIP LOCKED),
       events AS (DELETE FROM ${s}.message_events WHERE message_id = ANY (ARRAY(SELECT id FROM doomed))),
       files AS (DELETE FROM ${s}.attachments WHERE message_id = ANY (ARRAY(SELECT id FROM doomed)))
       DELETE FROM ${s}.messages WHERE seq = ANY (ARRAY(SELECT seq FROM doomed))`;
  }

  /** Queues messages in the given order; runs inside the accept commit. */
  async insertWithin(tx: Queryable, accepted: readonly AcceptedMessage[]): Promise<void> {
    if (accepted.length === 0) return;
    const column = <T>(pick: (entry: AcceptedMessage) => T): T[] => accepted.map(pick);
    await tx.run(this.insertMany, [
      column(({ message }) => message.id),
      column(({ message }) => message.requestId),
      column(({ message }) => message.accountId),
      column(({ message }) => message.part),
      column(({ message }) => message.recipient.field),
      column(({ message }) => message.recipient.value),
      column(({ message }) => message.jid),
      column(({ message }) => message.text),
      column(({ message }) => message.fileUrl),
      column(({ message }) => message.fileName),
      column(({ now }) => now),
      column(({ periodKey }) => periodKey),
      column(({ message }) => message.feed ?? null),
      column(({ message }) => message.quotedId ?? null),
    ]);
  }

  /** Stores an attached file's bytes; runs inside the accept commit. */
  async insertAttachmentWithin(tx: Queryable, attachment: StoredAttachment): Promise<void> {
    await tx.run(this.insertAttachment, [attachment.messageId, attachment.data, attachment.mimetype]);
  }

  async attachment(id: string): Promise<StoredAttachment | undefined> {
    const [row] = await this.db.rows<{ message_id: string; data: Buffer; mimetype: string }>(this.selectAttachment, [id]);
    return row && { messageId: row.message_id, data: row.data, mimetype: row.mimetype };
  }

  async claimNext(accountId: string, now: number, owner?: string): Promise<OutboxMessage | undefined> {
    const [row] = await this.db.rows<MessageRow>(this.claim, [accountId, now, owner ?? null]);
    return row ? toMessage(row) : undefined;
  }

  async nextDueAt(accountId: string): Promise<number | undefined> {
    const [row] = await this.db.rows<{ due: number | null }>(this.dueAt, [accountId]);
    return row?.due ?? undefined;
  }

  async markSent(id: string, jid: string, now: number, providerId: string | null = null): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Sent bytes are WhatsApp's now: a resend request is served from the connection, not from here.
      await tx.run(this.dropAttachment, [id]);
      if ((await tx.run(this.setSent, [id, jid, now, providerId])) > 0) {
        await tx.run(this.addEvent, [id, 'sent', now, null]);
        return true;
      }
      // A receipt overtook the send's own confirmation: the status is already further along.
      await tx.run(this.setJid, [id, jid, now, providerId]);
      return false;
    });
  }

  async idForProviderId(providerId: string): Promise<string | undefined> {
    return (await this.db.rows<{ id: string }>(this.selectByProviderId, [providerId]))[0]?.id;
  }

  async requeue(id: string, notBefore: number, detail: string, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [row] = await tx.rows<{ request_id: string; seq: number }>(this.setQueued, [id, notBefore, now]);
      if (!row) return;
      await tx.run(this.delaySiblings, [row.seq, row.request_id, notBefore]);
      await tx.run(this.addEvent, [id, 'queued', now, detail]);
    });
  }

  async markFailed(id: string, reason: string, now: number, refundAt: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.rows<{ period_key: string }>(this.setFailed, [id, reason, now]);
      if (!row) return false;
      await tx.run(this.dropAttachment, [id]);
      await tx.run(this.addRefunds, [[id], [row.period_key], refundAt]);
      await tx.run(this.addEvent, [id, 'failed', now, reason]);
      return true;
    });
  }

  async markReceipt(id: string, status: ReceiptStatus, now: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Locked: two receipts for one message (two processes hearing it) move it one after the other.
      const [row] = await tx.rows<{ status: MessageStatus }>(this.lockStatus, [id]);
      const rank = row ? RECEIPT_RANK[row.status] : undefined;
      if (rank === undefined || rank >= RECEIPT_RANK[status]!) return false;
      // A receipt can arrive before sendMessage resolves; it proves the message was sent.
      if (row!.status === 'sending') await tx.run(this.addEvent, [id, 'sent', now, 'confirmed by a receipt']);
      await tx.run(this.setReceipt, [id, status, now]);
      await tx.run(this.addEvent, [id, status, now, null]);
      return true;
    });
  }

  async recoverInFlight(now: number, accountId?: string, owner?: string): Promise<number> {
    return accountId === undefined ? this.db.run(this.recover, [now]) : this.db.run(this.recoverAccount, [now, accountId, owner ?? null]);
  }

  async get(id: string): Promise<OutboxMessage | undefined> {
    const [row] = await this.db.rows<MessageRow>(this.selectOne, [id]);
    return row ? toMessage(row) : undefined;
  }

  async byRequest(requestId: string): Promise<OutboxMessage[]> {
    return (await this.db.rows<MessageRow>(this.selectByRequest, [requestId])).map(toMessage);
  }

  async history(id: string): Promise<MessageEvent[]> {
    const rows = await this.db.rows<{ message_id: string; status: MessageStatus; at: number; detail: string | null }>(this.selectHistory, [id]);
    return rows.map((row) => ({ messageId: row.message_id, status: row.status, at: row.at, detail: row.detail }));
  }

  async countByStatus(accountId?: string): Promise<Partial<Record<MessageStatus, number>>> {
    const rows =
      accountId === undefined
        ? await this.db.rows<{ status: MessageStatus; n: number }>(this.countAll)
        : await this.db.rows<{ status: MessageStatus; n: number }>(this.countAccount, [accountId]);
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async countWaiting(): Promise<number> {
    return (await this.db.rows<{ n: number }>(this.countQueue))[0]!.n;
  }

  async countWaitingByAccount(): Promise<ReadonlyMap<string, number>> {
    const rows = await this.db.rows<{ account_id: string; n: number }>(this.countQueueByAccount);
    return new Map(rows.map((row) => [row.account_id, row.n]));
  }

  async queueByAccount(): Promise<ReadonlyMap<string, AccountQueue>> {
    const rows = await this.db.rows<{ account_id: string; n: number; oldest: number }>(this.selectQueueByAccount);
    return new Map(rows.map((row) => [row.account_id, { waiting: row.n, oldestAcceptedAt: row.oldest }]));
  }

  async lastFailed(accountId: string, limit: number): Promise<OutboxMessage[]> {
    return (await this.db.rows<MessageRow>(this.selectLastFailed, [accountId, limit])).map(toMessage);
  }

  async countSentSince(accountId: string, since: number): Promise<number> {
    return (await this.db.rows<{ n: number }>(this.countSent, [accountId, since]))[0]!.n;
  }

  async expireQueued(
    accountId: string,
    createdBefore: number,
    reason: string,
    now: number,
    refundAt: number,
  ): Promise<{ failed: OutboxMessage[]; oldestRemaining: number | undefined }> {
    return this.db.transaction(async (tx) => {
      const rows = (await tx.rows<MessageRow & { period_key: string }>(this.expire, [accountId, createdBefore, reason, now])).sort((a, b) => a.seq - b.seq);
      if (rows.length > 0) {
        const ids = rows.map((row) => row.id);
        await tx.run(this.dropAttachments, [ids]);
        await tx.run(this.addRefunds, [ids, rows.map((row) => row.period_key), refundAt]);
        await tx.run(this.addEvents, [ids, 'failed', now, reason]);
      }
      const [{ oldest }] = (await tx.rows<{ oldest: number | null }>(this.oldestQueued, [accountId])) as [{ oldest: number | null }];
      return { failed: rows.map(toMessage), oldestRemaining: oldest ?? undefined };
    });
  }

  async pruneFinal(before: number, limit: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      // The planner cannot tell how soon the filtered scan fills the batch: it costs it as a walk of the
      // whole history, past jit_above_cost (compiling took ~300 ms, running it 10), and on a table not
      // analyzed yet it reads every candidate and sorts them (170 ms a batch at 300,000 rows, against
      // 13 ms walking seq in order). So, for this transaction alone: no JIT, and no sort.
      await tx.run('SET LOCAL jit = off; SET LOCAL enable_sort = off');
      return tx.run(this.prune, [before, limit]);
    });
  }
}
