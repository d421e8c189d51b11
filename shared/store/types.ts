import type {
  Account,
  AccountState,
  Attempt,
  Chat,
  ChatInput,
  MessageChange,
  MessageEvent,
  MessagePart,
  MessageStatus,
  NewAttempt,
  OutboxMessage,
  QuotaPeriod,
  QuotaState,
  ReceiptStatus,
  WebhookState,
} from '../model';
import type { RecipientRef } from '../contract/types';
import type { PublishedWebhook } from '../webhook/urls';

/**
 * Everything stateful goes through this interface: the embedded SQLite store (`sqlite/`, one process) and
 * the PostgreSQL store (`postgres/`, several processes on one workspace). Methods are asynchronous for the
 * latter even where SQLite answers synchronously. Operations are domain-level (accept, claim, refund) rather than generic
 * reads and writes, so each store can make them atomic in its own way.
 */
export interface WorkspaceStore {
  readonly webhook: WebhookRepository;
  readonly accounts: AccountRepository;
  readonly chats: ChatRepository;
  readonly outbox: OutboxRepository;
  readonly quota: QuotaRepository;
  readonly attempts: AttemptRepository;
  readonly dryRun: DryRunRepository;
  readonly auth: AuthStateRepository;
  readonly feed: FeedRepository;
  readonly webhookUrls: WebhookUrlRepository;
  readonly ownership: OwnershipRepository;
  readonly changes: ChangeRepository;
  readonly linkPages: LinkPageRepository;
  readonly inbound: InboundRepository;
  /** Reserve quota, queue the messages and log the attempt, all or nothing. */
  accept(input: AcceptInput): Promise<AcceptOutcome>;
  /**
   * Gives space that pruning freed back to the file system, up to `maxPages` pages (SQLite's incremental
   * vacuum, one short step); resolves to the pages still free, so a caller steps again while that is not
   * 0. A store whose server reclaims space itself (PostgreSQL's autovacuum) answers 0.
   */
  reclaimSpace(maxPages: number): Promise<number>;
  close(): Promise<void>;
}

export interface WebhookRepository {
  /** Creates the webhook state with `initialToken` the first time. */
  get(initialToken: string, now: number): Promise<WebhookState>;
  rotate(newToken: string, now: number): Promise<WebhookState>;
  setEnabled(enabled: boolean): Promise<WebhookState>;
}

/** Where active entry points serve the webhook (see shared/webhook/urls.ts): templates, never the token. */
export interface WebhookUrlRepository {
  /** Records or replaces the entry point's templates (keyed by flow and node). */
  publish(entry: PublishedWebhook, now: number): Promise<void>;
  /**
   * Forgets the entry point's record if it still holds `urlTemplate`: an engine that stops serving one URL
   * (n8n's editor test URL) leaves the record of another (the production URL) in place.
   */
  withdraw(flowId: string, nodeId: string, urlTemplate: string): Promise<void>;
  /** Every recorded entry point, oldest first. */
  list(): Promise<(PublishedWebhook & { readonly publishedAt: number })[]>;
}

/**
 * Which process holds each account's connection and sends its queue: WhatsApp allows one socket per
 * linked device, so at most one owner at a time. A hold lasts `ttlMs` unless renewed; an owner whose
 * renewal fails must stop sending and close its connection before the hold runs out.
 */
export interface OwnershipRepository {
  /** Takes the account for `owner` unless another owner holds it unexpired; true when `owner` holds it now. */
  acquire(accountId: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Extends `owner`'s hold; false when it no longer holds the account. */
  renew(accountId: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Lets the account go (a closing workspace, a removed account) so another owner may take it at once. */
  release(accountId: string, owner: string): Promise<void>;
  /** Who holds the account now, if anyone. */
  ownerOf(accountId: string, now: number): Promise<string | undefined>;
}

/** A change a workspace made, kept for the processes that did not make it (see ChangeRepository). */
export type StoreChange = (
  | { readonly kind: 'message'; readonly change: MessageChange }
  | { readonly kind: 'account'; readonly accountId: string; readonly state: AccountState | null; readonly detail: string | null; readonly at: number }
  /** The webhook's token was rotated or the webhook switched: read it again. */
  | { readonly kind: 'webhook' }
  /** An account was added, relinked or removed: read the list again. */
  | { readonly kind: 'accounts' }
  /** Chats were added or renamed: read the directory again. */
  | { readonly kind: 'chats' }
  /** Received messages were stored: triggers read the received feed. */
  | { readonly kind: 'received' }
  /** A flow asked to mark these received messages read: the account's owner does it. */
  | { readonly kind: 'read'; readonly accountId: string; readonly ids: readonly string[] }
) & {
  /** The owner id of the workspace that made it, so that it skips its own. */
  readonly origin?: string;
};

/**
 * The workspace's changes in the order they were made (message lifecycle, account states), read from a
 * cursor: a process that did not make a change, or that was away, reads it here and misses nothing
 * (the seam several processes on one store need; one process hears its own changes in memory too).
 */
export interface ChangeRepository {
  /** Appends in one commit, in order. */
  append(changes: readonly StoreChange[]): Promise<void>;
  /** Changes after `cursor`, oldest first, at most `limit`; `cursor` in the answer is where the next read starts. */
  after(cursor: number, limit: number): Promise<{ readonly changes: (StoreChange & { readonly seq: number })[]; readonly cursor: number }>;
  /** The newest change's position (0 when there is none): where a new reader starts. */
  head(): Promise<number>;
  /**
   * Where other processes may write to this store (PostgreSQL): calls `announced` when changes may have
   * been appended (and after a reconnect), so a reader reads from its cursor. Absent for a store only
   * this process writes. The returned function stops watching.
   */
  watch?(announced: () => void, onError: (error: unknown) => void): () => Promise<void>;
}

/** How many changes a store keeps: enough for any reader that is merely restarting. */
export const CHANGES_KEPT = 10_000;

export interface AccountRepository {
  list(): Promise<Account[]>;
  get(id: string): Promise<Account | undefined>;
  put(account: Account): Promise<void>;
  remove(id: string): Promise<void>;
}

export interface ChatRepository {
  /** Inserts new chats (assigning chat ids) and updates names of known ones. Returns the stored chats. */
  upsert(accountId: string, chats: readonly ChatInput[], now: number): Promise<Chat[]>;
  /** Every chat, for building the in-memory directory. */
  all(): Promise<Chat[]>;
}

export interface NewMessage {
  readonly id: string;
  readonly requestId: string;
  readonly accountId: string;
  readonly part: MessagePart;
  readonly recipient: RecipientRef;
  readonly jid: string | null;
  readonly text: string | null;
  readonly fileUrl: string | null;
  readonly fileName: string | null;
  /**
   * On the first part of a request that flows must see (one accepted by the webhook): the validated
   * request as JSON, without its text (the text part holds it). Null or absent for the rest.
   */
  readonly feed?: string | null;
  /** The received message this part replies to in thread (its provider id), if any. */
  readonly quotedId?: string | null;
}

export interface QuotaPolicy {
  readonly period: QuotaPeriod;
  /** Units per period (or in total for period "none"). */
  readonly allowance: number;
}

/** The bytes of an attached file, stored with its message. */
/** One account's queue as the metrics show it (see OutboxRepository.queueByAccount). */
export interface AccountQueue {
  /** Messages queued or sending. */
  readonly waiting: number;
  /** When the oldest of them was accepted (ms since the epoch). */
  readonly oldestAcceptedAt: number;
}

export interface StoredAttachment {
  readonly messageId: string;
  readonly data: Buffer;
  readonly mimetype: string;
}

export interface AcceptInput {
  /** The request's parts, text then file (two at most); the first part's id is the request id. */
  readonly messages: readonly NewMessage[];
  /** Files attached by an engine, committed with the request. */
  readonly attachments?: readonly StoredAttachment[];
  /** Units to reserve: one per message. */
  readonly units: number;
  readonly quota: QuotaPolicy;
  readonly periodKey: string;
  readonly attempt: NewAttempt;
  readonly now: number;
}

export type AcceptOutcome =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly available: number; readonly needed: number };

export interface OutboxRepository {
  /**
   * The oldest queued message of the account that is due, moved to `sending` in the same step; nothing
   * when `owner` is given and does not hold the account (see OwnershipRepository).
   */
  claimNext(accountId: string, now: number, owner?: string): Promise<OutboxMessage | undefined>;
  /** When the account's earliest queued message becomes due, if it has any. */
  nextDueAt(accountId: string): Promise<number | undefined>;
  /**
   * Records the hand-over to WhatsApp, with the provider's own id for the message when it has one;
   * false when a receipt already moved the message further.
   */
  markSent(id: string, jid: string, now: number, providerId?: string | null): Promise<boolean>;
  /** Our id of the message the provider knows as `providerId` (see markSent), if any. */
  idForProviderId(providerId: string): Promise<string | undefined>;
  /** Back to `queued` after a transient failure, not before `notBefore`. */
  requeue(id: string, notBefore: number, detail: string, now: number): Promise<void>;
  /**
   * Fails the message and schedules the refund of its unit at `refundAt`. A `sent` message can still fail
   * (WhatsApp's error acknowledgement); a delivered one cannot. Returns false when nothing changed.
   */
  markFailed(id: string, reason: string, now: number, refundAt: number): Promise<boolean>;
  /**
   * Moves forward only (a late `delivered` after `read` is ignored); a receipt for a message still
   * `sending` also proves it sent. Returns whether it changed.
   */
  markReceipt(id: string, status: ReceiptStatus, now: number): Promise<boolean>;
  /**
   * After a crash, messages left in `sending` go back to `queued`, keeping their ids: those of one
   * account (its new owner does this on taking it), or of every account. Given an owner, only while
   * that owner holds the account: a sender that lost its hold must not requeue its successor's send.
   */
  recoverInFlight(now: number, accountId?: string, owner?: string): Promise<number>;
  get(id: string): Promise<OutboxMessage | undefined>;
  /** The bytes of a message's attached file, until it is sent or fails. */
  attachment(id: string): Promise<StoredAttachment | undefined>;
  /** The messages of one request (text, then file), in sending order. */
  byRequest(requestId: string): Promise<OutboxMessage[]>;
  history(id: string): Promise<MessageEvent[]>;
  /** Every message by status: a count of the whole history, for reports and tests, not for a hot path. */
  countByStatus(accountId?: string): Promise<Partial<Record<MessageStatus, number>>>;
  /** Messages still waiting (queued or sending), counted from the queue index alone, whatever the history. */
  countWaiting(): Promise<number>;
  /** Waiting messages (queued or sending) of each account that has any, through the queue index. */
  countWaitingByAccount(): Promise<ReadonlyMap<string, number>>;
  /**
   * Each account's waiting messages (queued or sending) with when the oldest of them was accepted, for the
   * metrics' queue depth and age; through the queue index, whatever the history. Accounts with none are absent.
   */
  queueByAccount(): Promise<ReadonlyMap<string, AccountQueue>>;
  /** The account's last `limit` failed messages, newest first, through the queue index. */
  lastFailed(accountId: string, limit: number): Promise<OutboxMessage[]>;
  /** Messages of the account sent at or after `since` (for hourly and daily caps). */
  countSentSince(accountId: string, since: number): Promise<number>;
  /**
   * Fails the account's queued messages accepted at or before `createdBefore` (a logged-out account whose
   * phone was not linked again in time) and schedules their refunds, in one commit. Returns the failed
   * messages and when the oldest message still queued was accepted, to schedule the next expiry.
   */
  expireQueued(
    accountId: string,
    createdBefore: number,
    reason: string,
    now: number,
    refundAt: number,
  ): Promise<{ readonly failed: OutboxMessage[]; readonly oldestRemaining: number | undefined }>;
  /**
   * Retention: removes at most `limit` messages in a final status (FINAL_STATUSES) that were accepted and
   * last changed before `before`, with their history and attached files, oldest first, in one short
   * commit; returns how many. Kept whatever their age: a message whose refund is still due, a part of a
   * request whose other part is kept (a request goes whole), and the newest message (the SQLite outbox's
   * seq is a plain rowid: deleting the newest row would hand its seq out again).
   */
  pruneFinal(before: number, limit: number): Promise<number>;
}

/**
 * The statuses after which a message is only history, the ones retention removes: handed over (`sent`,
 * whose receipts may never come), confirmed (`delivered`, `read`, `played`) or `failed`. A message still
 * `queued` or `sending` is never removed.
 */
export const FINAL_STATUSES = ['sent', 'delivered', 'read', 'played', 'failed'] as const satisfies readonly MessageStatus[];

export interface QuotaRepository {
  /** Applies due refunds first, then reports the current period. */
  state(policy: QuotaPolicy, periodKey: string, now: number): Promise<QuotaState>;
  topUp(units: number, periodKey: string): Promise<void>;
}

export interface AttemptRepository {
  /** Logs a call that was not accepted (accepted calls are logged by `accept`). Keeps the last 100. */
  add(attempt: NewAttempt): Promise<number>;
  /** Newest first. */
  list(limit: number): Promise<Attempt[]>;
  /** Records the later outcome of a request's messages on the attempt that carried it. */
  setOutcome(requestId: string, outcome: string, at: number): Promise<void>;
}

/** How many attempts the log keeps, as TimelinesAI's "Download log" does. */
export const ATTEMPT_LOG_SIZE = 100;

/** What a dry-run account "sent", kept instead of reaching WhatsApp. */
export interface DryRunRecord {
  readonly id: string;
  readonly accountId: string;
  readonly jid: string;
  /** `text`, or the media kind of a file (image, video, audio, document). */
  readonly kind: string;
  readonly text: string | null;
  readonly fileName: string | null;
  readonly mimetype: string | null;
  readonly bytes: number | null;
  readonly at: number;
  /** How many times this id was handed over: a resend after a crash reuses the id, as WhatsApp dedupes. */
  readonly times: number;
}

export interface DryRunRepository {
  record(entry: Omit<DryRunRecord, 'times'>): Promise<void>;
  list(accountId?: string): Promise<DryRunRecord[]>;
}

/**
 * One one-time link page as every process of the workspace serves it (linking/link-pages.ts decides
 * what it shows): the process running the linking session writes its state, any process answers its
 * page and polls. Keyed by the SHA-256 of the link's token; `viewKey` is the SHA-256 of the key the
 * first page load got.
 */
export interface LinkPageRecord {
  readonly key: string;
  readonly expiresAt: number;
  readonly viewKey: string | null;
  /** What the page's poll reads, as JSON. */
  readonly state: string;
  readonly retired: 'used' | 'expired' | null;
  /** From then on the link is unknown (its row may be deleted). */
  readonly forgetAt: number;
}

export interface LinkPageRepository {
  /** Creates the page, or replaces the state of one not retired. */
  put(key: string, expiresAt: number, state: string, forgetAt: number): Promise<void>;
  get(key: string): Promise<LinkPageRecord | undefined>;
  /** Gives the page its view key if it has none and is not retired; false when another load got it first. */
  claimView(key: string, viewKey: string): Promise<boolean>;
  /** Retires a page not retired yet: it answers `why` until `forgetAt`. */
  retire(key: string, why: 'used' | 'expired', forgetAt: number): Promise<void>;
  /** Deletes the pages forgotten by `now`. */
  prune(now: number): Promise<void>;
}

/** One signal key write: a null value deletes the key. */
export interface AuthKeyWrite {
  readonly type: string;
  readonly id: string;
  readonly value: string | null;
}

/** What WhatsApp told us about a linked device that must survive a restart. */
export interface DeviceState {
  /** Sending stays paused until then (a restriction or a message cap); null when not paused. */
  readonly pausedUntil: number | null;
  readonly pauseReason: string | null;
  /** When WhatsApp logged the device out; null while it is linked. */
  readonly loggedOutAt: number | null;
}

/**
 * A linked account's Baileys auth state (creds and signal keys) and device state. Values are opaque JSON
 * text to the store (the transport serialises them with Baileys' BufferJSON), so any store can hold them.
 * Every write is its own transaction; Baileys calls them on every `creds.update` and key change.
 */
export interface AuthStateRepository {
  readCreds(accountId: string): Promise<string | undefined>;
  writeCreds(accountId: string, creds: string, now: number): Promise<void>;
  /** The stored values of the given keys of one type; missing keys are absent from the map. */
  readKeys(accountId: string, type: string, ids: readonly string[]): Promise<Map<string, string>>;
  /** Every key of one type (the LID ↔ phone map is seeded from `lid-mapping`). */
  listKeys(accountId: string, type: string): Promise<Map<string, string>>;
  /** Writes and deletes in one commit. */
  writeKeys(accountId: string, writes: readonly AuthKeyWrite[]): Promise<void>;
  /** Moves all auth and device state of `from` to `to`, replacing what `to` had (a relink). */
  move(from: string, to: string): Promise<void>;
  /** Erases the account's creds, keys and device state (unlink, logout). */
  clear(accountId: string): Promise<void>;
  readDeviceState(accountId: string): Promise<DeviceState>;
  writeDeviceState(accountId: string, state: DeviceState): Promise<void>;
}

/** A request accepted by the webhook, as the feed hands it to flows (rebuilt from the outbox rows). */
export interface FedRequest {
  /** Seq of its first and last part: a reader that has emitted it resumes after `to`. */
  readonly from: number;
  readonly to: number;
  readonly requestId: string;
  readonly accountId: string;
  readonly parts: readonly { readonly id: string; readonly part: MessagePart }[];
  /** The request's text (from its text part; "" when it has none). */
  readonly text: string;
  /** NewMessage.feed: the rest of the validated request, as JSON. */
  readonly request: string;
  /** The entry point that took it (AcceptOrigin.via), if it named one. */
  readonly via?: string;
  readonly acceptedAt: number;
}

/**
 * The outbox read as a feed of what the webhook accepted, in order of acceptance, with durable reader
 * cursors: a flow that was being redeployed or restarted when requests came in is handed them afterwards.
 */
export interface FeedRepository {
  /**
   * Requests accepted after `position`, oldest first, reading at most `limit` (≥ 2) outbox rows; `position`
   * in the answer is where the next read starts (past rows that are not the feed's, before a request
   * whose parts were not all read).
   */
  after(position: number, limit: number): Promise<{ readonly requests: FedRequest[]; readonly position: number }>;
  /** The position of the newest accepted message (0 when there is none): where a new reader starts. */
  head(): Promise<number>;
  cursor(reader: string): Promise<number | undefined>;
  saveCursor(reader: string, position: number, now: number): Promise<void>;
}

/** A received message to store: what flows see and what replying to it needs, each as JSON text. */
export interface InboundRecord {
  readonly accountId: string;
  /** The provider's id of the message; one record per account and id. */
  readonly id: string;
  readonly chatJid: string;
  /** When it was sent (ms). */
  readonly at: number;
  /** The flow-facing message (inbound/received.ts), as JSON. */
  readonly body: string;
  /** What quoting it or marking it read needs (transport MessageReference), as JSON. */
  readonly reference: string;
  /** The engine process whose connection received it (WorkspaceOptions.processTag), if it named one. */
  readonly via?: string;
}

export interface StoredInbound extends InboundRecord {
  /** Position in the received feed: increasing, in the order messages were stored. */
  readonly seq: number;
  readonly receivedAt: number;
}

/**
 * Received messages, kept for the retention window (workspace/retention.ts): the durable feed the engines' triggers read from
 * (each resumes after the last one it emitted), and what a reply's `quoted_message_id` names.
 */
export interface InboundRepository {
  /**
   * Stores messages not stored yet (by account and id), in order, in one commit; returns the new ones
   * with their positions. A message the transport reports twice is stored once and returned once.
   */
  record(entries: readonly InboundRecord[], now: number): Promise<StoredInbound[]>;
  /** Messages stored after `position`, oldest first, at most `limit`. */
  after(position: number, limit: number): Promise<StoredInbound[]>;
  /** The position of the newest stored message (0 when there is none): where a new reader starts. */
  head(): Promise<number>;
  /** A stored message by its provider id (of one account, when given). */
  find(id: string, accountId?: string): Promise<StoredInbound | undefined>;
  /** Drops at most `limit` messages received before `receivedBefore`, oldest first; returns how many. */
  prune(receivedBefore: number, limit: number): Promise<number>;
  count(): Promise<number>;
}
