import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { MessageEvent, MessageStatus, OutboxMessage, ReceiptStatus } from '../../model';
import { FINAL_STATUSES, type AccountQueue, type NewMessage, type OutboxRepository, type StoredAttachment } from '../types';
import { inTransaction } from './database';
import { type MessageRow, toMessage } from '../message-row';
import { RECEIPT_RANK } from '../receipt-rank';

/**
 * A request has at most two parts (its text, then its file), queued in the same commit as consecutive
 * rows, and its id is its first part's id: so its parts are found from that row by seq, through the id
 * index, instead of by a scan of every message ever queued.
 */
const PARTS_PER_REQUEST = 2;

/**
 * The accounts that own messages, one seek each through the queue index (it leads with the account),
 * so the queued and sending rows of every account are reached without reading the sent history.
 */
const MESSAGE_OWNERS = `WITH RECURSIVE owners(account_id) AS (
  SELECT min(account_id) FROM messages
  UNION ALL
  SELECT (SELECT min(account_id) FROM messages WHERE account_id > owners.account_id) FROM owners WHERE account_id IS NOT NULL)`;

/** FINAL_STATUSES as an SQL list. */
const FINAL = FINAL_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * Whether outbox row `x` may go (see OutboxRepository.pruneFinal), `$before` being the cutoff and
 * `newest.seq` the newest row's seq, which stays: seq is a plain rowid, and SQLite hands out max(rowid) + 1.
 */
const PRUNABLE = (x: string) => `(${x}.status IN (${FINAL}) AND ${x}.created_at < $before AND ${x}.updated_at < $before
  AND ${x}.seq < newest.seq AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.message_id = ${x}.id))`;

export class SqliteOutboxRepository implements OutboxRepository {
  private readonly claim: StatementSync;
  private readonly dueAt: StatementSync;
  private readonly setSent: StatementSync;
  private readonly setJid: StatementSync;
  private readonly selectByProviderId: StatementSync;
  private readonly setQueued: StatementSync;
  private readonly delaySiblings: StatementSync;
  private readonly setFailed: StatementSync;
  private readonly addRefund: StatementSync;
  private readonly setReceipt: StatementSync;
  private readonly selectStatus: StatementSync;
  private readonly recover: StatementSync;
  private readonly recoverAccount: StatementSync;
  private readonly selectOne: StatementSync;
  private readonly selectByRequest: StatementSync;
  private readonly selectHistory: StatementSync;
  private readonly countAll: StatementSync;
  private readonly countAccount: StatementSync;
  private readonly countSent: StatementSync;
  private readonly countQueue: StatementSync;
  private readonly countQueueByAccount: StatementSync;
  private readonly selectQueueByAccount: StatementSync;
  private readonly selectLastFailed: StatementSync;
  private readonly addEvent: StatementSync;
  private readonly insert: StatementSync;
  private readonly insertAttachment: StatementSync;
  private readonly selectAttachment: StatementSync;
  private readonly dropAttachment: StatementSync;
  private readonly expire: StatementSync;
  private readonly oldestQueued: StatementSync;
  private readonly selectPrunable: StatementSync;
  private readonly probeFrom: StatementSync;
  private readonly selectSpan: StatementSync;
  private readonly deleteEvents: StatementSync;
  private readonly deleteAttachments: StatementSync;
  private readonly deleteMessages: StatementSync;

  /** `settle` drains the intake first, so every read sees every accepted message. */
  constructor(
    private readonly db: DatabaseSync,
    private readonly settle: () => void,
    /** Who holds an account now (the store's ownership), checked before a claim. */
    private readonly holderOf: (accountId: string, now: number) => string | undefined = () => undefined,
  ) {
    this.insertAttachment = db.prepare('INSERT INTO attachments (message_id, data, mimetype) VALUES (?, ?, ?)');
    this.selectAttachment = db.prepare('SELECT message_id, data, mimetype FROM attachments WHERE message_id = ?');
    this.dropAttachment = db.prepare('DELETE FROM attachments WHERE message_id = ?');
    // Positional parameters: node:sqlite binds them about 3x faster than named ones, and this runs per message.
    this.insert = db.prepare(
      `INSERT INTO messages (id, request_id, account_id, part, recipient_field, recipient_value, jid, text,
         file_url, file_name, status, created_at, updated_at, not_before, period_key, feed, quoted_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
    );
    this.claim = db.prepare(
      `UPDATE messages SET status = 'sending', attempts = attempts + 1, updated_at = $now
       WHERE seq = (SELECT seq FROM messages
                    WHERE account_id = $accountId AND status = 'queued' AND not_before <= $now
                    ORDER BY seq LIMIT 1)
       RETURNING *`,
    );
    this.dueAt = db.prepare(
      `SELECT min(not_before) AS due FROM messages WHERE account_id = ? AND status = 'queued'`,
    );
    this.setSent = db.prepare(
      `UPDATE messages SET status = 'sent', jid = $jid, provider_id = $providerId, sent_at = $now, updated_at = $now
       WHERE id = $id AND status = 'sending'`,
    );
    this.setJid = db.prepare(
      'UPDATE messages SET jid = $jid, provider_id = coalesce($providerId, provider_id), sent_at = coalesce(sent_at, $now) WHERE id = $id',
    );
    this.selectByProviderId = db.prepare('SELECT id FROM messages WHERE provider_id = ?');
    this.setQueued = db.prepare(
      `UPDATE messages SET status = 'queued', not_before = $notBefore, updated_at = $now
       WHERE id = $id AND status = 'sending' RETURNING request_id, seq`,
    );
    // The file of a request must never overtake its text.
    this.delaySiblings = db.prepare(
      `UPDATE messages SET not_before = max(not_before, $notBefore)
       WHERE seq BETWEEN $seq - ${PARTS_PER_REQUEST - 1} AND $seq + ${PARTS_PER_REQUEST - 1}
         AND request_id = $requestId AND status = 'queued'`,
    );
    this.setFailed = db.prepare(
      `UPDATE messages SET status = 'failed', reason = $reason, updated_at = $now
       WHERE id = $id AND status IN ('queued', 'sending', 'sent') RETURNING period_key`,
    );
    this.addRefund = db.prepare(
      'INSERT OR IGNORE INTO refunds (message_id, period_key, units, due_at) VALUES (?, ?, 1, ?)',
    );
    this.setReceipt = db.prepare(
      'UPDATE messages SET status = $status, sent_at = coalesce(sent_at, $now), updated_at = $now WHERE id = $id',
    );
    this.selectStatus = db.prepare('SELECT status FROM messages WHERE id = ?');
    this.recover = db.prepare(
      `${MESSAGE_OWNERS}
       UPDATE messages SET status = 'queued', updated_at = $now
       WHERE seq IN (SELECT m.seq FROM owners JOIN messages m ON m.account_id = owners.account_id AND m.status = 'sending')
       RETURNING id`,
    );
    this.recoverAccount = db.prepare(
      `UPDATE messages SET status = 'queued', updated_at = $now WHERE account_id = $accountId AND status = 'sending' RETURNING id`,
    );
    this.selectOne = db.prepare('SELECT * FROM messages WHERE id = ?');
    this.selectByRequest = db.prepare(
      `SELECT * FROM messages
       WHERE seq BETWEEN (SELECT seq FROM messages WHERE id = ?1) AND (SELECT seq FROM messages WHERE id = ?1) + ${PARTS_PER_REQUEST - 1}
         AND request_id = ?1
       ORDER BY seq`,
    );
    // Acceptance writes no event row (it keeps the accept commit small): created_at is the 'queued' event.
    this.selectHistory = db.prepare(
      `SELECT message_id, status, at, detail FROM (
         SELECT id AS message_id, 'queued' AS status, created_at AS at, NULL AS detail, 0 AS ord FROM messages WHERE id = $id
         UNION ALL
         SELECT message_id, status, at, detail, rowid AS ord FROM message_events WHERE message_id = $id)
       ORDER BY ord`,
    );
    this.countAll = db.prepare('SELECT status, count(*) AS n FROM messages GROUP BY status');
    this.countAccount = db.prepare('SELECT status, count(*) AS n FROM messages WHERE account_id = ? GROUP BY status');
    this.countSent = db.prepare('SELECT count(*) AS n FROM messages WHERE account_id = ? AND sent_at >= ?');
    this.countQueue = db.prepare(
      `${MESSAGE_OWNERS}
       SELECT count(*) AS n FROM owners JOIN messages m ON m.account_id = owners.account_id AND m.status IN ('queued', 'sending')`,
    );
    this.countQueueByAccount = db.prepare(
      `${MESSAGE_OWNERS}
       SELECT owners.account_id, count(*) AS n FROM owners JOIN messages m ON m.account_id = owners.account_id AND m.status IN ('queued', 'sending')
       GROUP BY owners.account_id`,
    );
    // The oldest waiting message is the one of lowest seq (seq is the order of acceptance): the index gives
    // the count and that seq, and one row read per account gives its acceptance time.
    this.selectQueueByAccount = db.prepare(
      `${MESSAGE_OWNERS}, waiting AS (
         SELECT owners.account_id, count(*) AS n, min(m.seq) AS first FROM owners
         JOIN messages m ON m.account_id = owners.account_id AND m.status IN ('queued', 'sending')
         GROUP BY owners.account_id)
       SELECT waiting.account_id, waiting.n, messages.created_at AS oldest FROM waiting JOIN messages ON messages.seq = waiting.first`,
    );
    this.selectLastFailed = db.prepare(`SELECT * FROM messages WHERE account_id = ? AND status = 'failed' ORDER BY seq DESC LIMIT ?`);
    this.addEvent = db.prepare('INSERT INTO message_events (message_id, status, at, detail) VALUES (?, ?, ?, ?)');
    this.expire = db.prepare(
      `UPDATE messages SET status = 'failed', reason = $reason, updated_at = $now
       WHERE account_id = $accountId AND status = 'queued' AND created_at <= $createdBefore
       RETURNING *`,
    );
    this.oldestQueued = db.prepare(
      `SELECT min(created_at) AS oldest FROM messages WHERE account_id = ? AND status = 'queued'`,
    );
    // Oldest first along the rowid, below $bound (see acceptedFrom): a request's parts are its neighbours by seq.
    this.selectPrunable = db.prepare(
      `WITH newest(seq) AS (SELECT max(seq) FROM messages)
       SELECT m.seq, m.id FROM messages m, newest
       WHERE m.seq < $bound AND ${PRUNABLE('m')}
         AND NOT EXISTS (SELECT 1 FROM messages o
                         WHERE o.seq BETWEEN m.seq - ${PARTS_PER_REQUEST - 1} AND m.seq + ${PARTS_PER_REQUEST - 1}
                           AND o.seq <> m.seq AND o.request_id = m.request_id AND NOT ${PRUNABLE('o')})
       ORDER BY m.seq LIMIT $limit`,
    );
    this.probeFrom = db.prepare('SELECT seq, created_at FROM messages WHERE seq >= ? ORDER BY seq LIMIT 1');
    this.selectSpan = db.prepare('SELECT (SELECT min(seq) FROM messages) AS low, (SELECT max(seq) FROM messages) AS high');
    this.deleteEvents = db.prepare('DELETE FROM message_events WHERE message_id IN (SELECT value FROM json_each(?))');
    this.deleteAttachments = db.prepare('DELETE FROM attachments WHERE message_id IN (SELECT value FROM json_each(?))');
    this.deleteMessages = db.prepare('DELETE FROM messages WHERE seq IN (SELECT value FROM json_each(?))');
  }

  /** Queues one message; runs inside the accept transaction. */
  insertWithin(message: NewMessage, periodKey: string, now: number): void {
    this.insert.run(
      message.id,
      message.requestId,
      message.accountId,
      message.part,
      message.recipient.field,
      message.recipient.value,
      message.jid,
      message.text,
      message.fileUrl,
      message.fileName,
      now,
      now,
      now,
      periodKey,
      message.feed ?? null,
      message.quotedId ?? null,
    );
  }

  /** Stores an attached file's bytes; runs inside the accept transaction. */
  insertAttachmentWithin(attachment: StoredAttachment): void {
    this.insertAttachment.run(attachment.messageId, attachment.data, attachment.mimetype);
  }

  async attachment(id: string): Promise<StoredAttachment | undefined> {
    const row = this.selectAttachment.get(id) as { message_id: string; data: Uint8Array; mimetype: string } | undefined;
    return row && { messageId: row.message_id, data: Buffer.from(row.data), mimetype: row.mimetype };
  }

  async claimNext(accountId: string, now: number, owner?: string): Promise<OutboxMessage | undefined> {
    if (owner !== undefined && this.holderOf(accountId, now) !== owner) return undefined;
    this.settle();
    return inTransaction(this.db, () => {
      const row = this.claim.get({ accountId, now }) as MessageRow | undefined;
      if (!row) return undefined;
      this.addEvent.run(row.id, 'sending', now, `attempt ${row.attempts}`);
      return toMessage(row);
    });
  }

  async nextDueAt(accountId: string): Promise<number | undefined> {
    this.settle();
    const { due } = this.dueAt.get(accountId) as { due: number | null };
    return due ?? undefined;
  }

  async markSent(id: string, jid: string, now: number, providerId: string | null = null): Promise<boolean> {
    this.settle();
    return inTransaction(this.db, () => {
      // Sent bytes are WhatsApp's now: a resend request is served from the connection, not from here.
      this.dropAttachment.run(id);
      if (this.setSent.run({ id, jid, now, providerId }).changes > 0) {
        this.addEvent.run(id, 'sent', now, null);
        return true;
      }
      // A receipt overtook the send's own confirmation: the status is already further along.
      this.setJid.run({ id, jid, now, providerId });
      return false;
    });
  }

  async idForProviderId(providerId: string): Promise<string | undefined> {
    this.settle();
    return (this.selectByProviderId.get(providerId) as { id: string } | undefined)?.id;
  }

  async requeue(id: string, notBefore: number, detail: string, now: number): Promise<void> {
    this.settle();
    inTransaction(this.db, () => {
      const row = this.setQueued.get({ id, notBefore, now }) as { request_id: string; seq: number } | undefined;
      if (!row) return;
      this.delaySiblings.run({ requestId: row.request_id, seq: row.seq, notBefore });
      this.addEvent.run(id, 'queued', now, detail);
    });
  }

  async markFailed(id: string, reason: string, now: number, refundAt: number): Promise<boolean> {
    this.settle();
    return inTransaction(this.db, () => {
      const row = this.setFailed.get({ id, reason, now }) as { period_key: string } | undefined;
      if (!row) return false;
      this.dropAttachment.run(id);
      this.addRefund.run(id, row.period_key, refundAt);
      this.addEvent.run(id, 'failed', now, reason);
      return true;
    });
  }

  async markReceipt(id: string, status: ReceiptStatus, now: number): Promise<boolean> {
    this.settle();
    return inTransaction(this.db, () => {
      const row = this.selectStatus.get(id) as { status: MessageStatus } | undefined;
      const rank = row ? RECEIPT_RANK[row.status] : undefined;
      if (rank === undefined || rank >= RECEIPT_RANK[status]!) return false;
      // A receipt can arrive before sendMessage resolves; it proves the message was sent.
      if (row!.status === 'sending') this.addEvent.run(id, 'sent', now, 'confirmed by a receipt');
      this.setReceipt.run({ id, status, now });
      this.addEvent.run(id, status, now, null);
      return true;
    });
  }

  async recoverInFlight(now: number, accountId?: string, owner?: string): Promise<number> {
    if (owner !== undefined && accountId !== undefined && this.holderOf(accountId, now) !== owner) return 0;
    this.settle();
    return inTransaction(this.db, () => {
      const rows = (accountId === undefined ? this.recover.all({ now }) : this.recoverAccount.all({ now, accountId })) as unknown as { id: string }[];
      for (const { id } of rows) this.addEvent.run(id, 'queued', now, 'recovered after a restart');
      return rows.length;
    });
  }

  async get(id: string): Promise<OutboxMessage | undefined> {
    this.settle();
    const row = this.selectOne.get(id) as MessageRow | undefined;
    return row ? toMessage(row) : undefined;
  }

  async byRequest(requestId: string): Promise<OutboxMessage[]> {
    this.settle();
    return (this.selectByRequest.all(requestId) as unknown as MessageRow[]).map(toMessage);
  }

  async history(id: string): Promise<MessageEvent[]> {
    this.settle();
    const rows = this.selectHistory.all({ id }) as unknown as {
      message_id: string;
      status: MessageStatus;
      at: number;
      detail: string | null;
    }[];
    return rows.map((row) => ({ messageId: row.message_id, status: row.status, at: row.at, detail: row.detail }));
  }

  async countByStatus(accountId?: string): Promise<Partial<Record<MessageStatus, number>>> {
    this.settle();
    const rows = (accountId === undefined ? this.countAll.all() : this.countAccount.all(accountId)) as unknown as {
      status: MessageStatus;
      n: number;
    }[];
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async countWaiting(): Promise<number> {
    this.settle();
    return (this.countQueue.get() as { n: number }).n;
  }

  async countWaitingByAccount(): Promise<ReadonlyMap<string, number>> {
    this.settle();
    const rows = this.countQueueByAccount.all() as { account_id: string; n: number }[];
    return new Map(rows.map((row) => [row.account_id, row.n]));
  }

  async queueByAccount(): Promise<ReadonlyMap<string, AccountQueue>> {
    this.settle();
    const rows = this.selectQueueByAccount.all() as { account_id: string; n: number; oldest: number }[];
    return new Map(rows.map((row) => [row.account_id, { waiting: row.n, oldestAcceptedAt: row.oldest }]));
  }

  async lastFailed(accountId: string, limit: number): Promise<OutboxMessage[]> {
    this.settle();
    return (this.selectLastFailed.all(accountId, limit) as unknown as MessageRow[]).map(toMessage);
  }

  async countSentSince(accountId: string, since: number): Promise<number> {
    this.settle();
    return (this.countSent.get(accountId, since) as { n: number }).n;
  }

  async expireQueued(
    accountId: string,
    createdBefore: number,
    reason: string,
    now: number,
    refundAt: number,
  ): Promise<{ failed: OutboxMessage[]; oldestRemaining: number | undefined }> {
    this.settle();
    return inTransaction(this.db, () => {
      const rows = this.expire.all({ accountId, createdBefore, reason, now }) as unknown as (MessageRow & { period_key: string })[];
      for (const row of rows) {
        this.dropAttachment.run(row.id);
        this.addRefund.run(row.id, row.period_key, refundAt);
        this.addEvent.run(row.id, 'failed', now, reason);
      }
      const { oldest } = this.oldestQueued.get(accountId) as { oldest: number | null };
      return { failed: rows.sort((a, b) => a.seq - b.seq).map(toMessage), oldestRemaining: oldest ?? undefined };
    });
  }

  async pruneFinal(before: number, limit: number): Promise<number> {
    this.settle();
    return inTransaction(this.db, () => {
      const rows = this.selectPrunable.all({ before, bound: this.acceptedFrom(before), limit }) as { seq: number; id: string }[];
      if (rows.length === 0) return 0;
      const ids = JSON.stringify(rows.map((row) => row.id));
      this.deleteEvents.run(ids);
      this.deleteAttachments.run(ids);
      this.deleteMessages.run(JSON.stringify(rows.map((row) => row.seq)));
      return rows.length;
    });
  }

  /**
   * The first seq accepted at or after `before`, found by bisecting the rowid (about 20 lookups for a
   * million rows): seq follows acceptance, so created_at increases with it (give or take one clock tick
   * between batches). It bounds the prune's scan, which would otherwise read the whole history each
   * round to find nothing more; a row the bisection misplaces waits for a later round.
   */
  private acceptedFrom(before: number): number {
    const { low, high } = this.selectSpan.get() as { low: number | null; high: number | null };
    if (low === null || high === null) return 0;
    let from = low;
    let to = high + 1;
    while (from < to) {
      const middle = from + Math.floor((to - from) / 2);
      const probe = this.probeFrom.get(middle) as { seq: number; created_at: number };
      if (probe.created_at >= before) to = middle;
      else from = probe.seq + 1;
    }
    return from;
  }
}
