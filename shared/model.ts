import type { RecipientRef } from './contract/types';

/** A message's lifecycle, in the order it moves forward (`failed` can follow `queued` or `sending`). */
export const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'read', 'played', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Statuses the phone reports after a send, each later one implying the earlier. */
export type ReceiptStatus = 'delivered' | 'read' | 'played';

export type MessagePart = 'text' | 'file';

/** One WhatsApp message in the outbox. A request with text and a file becomes two, sent in order. */
export interface OutboxMessage {
  /** The WhatsApp message id the message is sent with (3EB0… hex), fixed at acceptance. */
  readonly id: string;
  /** The id of the request's first message: the `message_id` the webhook answered with. */
  readonly requestId: string;
  readonly accountId: string;
  readonly part: MessagePart;
  /** Ascending order of acceptance; the dispatcher sends each account's messages in this order. */
  readonly seq: number;
  readonly recipient: RecipientRef;
  /** Known at acceptance for chat_id, jid and chat_name; for a phone it is resolved when sending. */
  readonly jid: string | null;
  readonly text: string | null;
  readonly fileUrl: string | null;
  readonly fileName: string | null;
  readonly status: MessageStatus;
  /** Why the message failed, in words a person understands. */
  readonly reason: string | null;
  /** Send attempts so far (transient failures are retried). */
  readonly attempts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Not sent before this time (retry backoff). */
  readonly notBefore: number;
  /** The received message it replies to in thread (quoted_message_id), if any. */
  readonly quotedId: string | null;
}

export interface MessageEvent {
  readonly messageId: string;
  readonly status: MessageStatus;
  readonly at: number;
  readonly detail: string | null;
}

/**
 * Why a message failed, as a fixed code (the metrics' label; `reason` says it to people): the number is
 * not on WhatsApp, WhatsApp answered the send with an error, the transport refused it for good, every retry
 * failed, its file could not be had, its account was logged out too long, or its account was removed.
 */
export const FAILURE_CAUSES = ['not_on_whatsapp', 'rejected_by_whatsapp', 'send_refused', 'retries_exhausted', 'attachment', 'logged_out', 'account_removed'] as const;
export type FailureCause = (typeof FAILURE_CAUSES)[number];

/** A change in a message's lifecycle, as the engines show it to flows. */
export interface MessageChange {
  readonly messageId: string;
  readonly requestId: string;
  readonly accountId: string;
  readonly status: MessageStatus;
  readonly reason: string | null;
  readonly at: number;
  /** A failure's cause, where the process that failed the message knows it. */
  readonly cause?: FailureCause;
}

export type AccountKind = 'dry-run' | 'baileys' | 'cloud-api';

/** Connection states of a linked account (issue: Baileys connection). Dry-run accounts are always `open`. */
export type AccountState = 'linking' | 'connecting' | 'open' | 'reconnecting' | 'logged_out' | 'replaced' | 'paused';

export interface Account {
  readonly id: string;
  readonly kind: AccountKind;
  /** Digits only, country code first; null until a linked phone tells its number. */
  readonly phone: string | null;
  readonly name: string | null;
  readonly createdAt: number;
  /** Last time the account became connected; chooses the default account. */
  readonly connectedAt: number | null;
  /** False once logged out or unlinked: such an account is never chosen by default. */
  readonly active: boolean;
}

/** A chat this workspace knows, with the chat id the service assigned to it. */
export interface Chat {
  readonly chatId: string;
  readonly accountId: string;
  readonly jid: string;
  readonly name: string | null;
  readonly isGroup: boolean;
  readonly updatedAt: number;
}

export interface ChatInput {
  readonly jid: string;
  readonly name: string | null;
}

export type QuotaPeriod = 'none' | 'daily' | 'monthly';

export interface QuotaState {
  readonly period: QuotaPeriod;
  readonly periodKey: string;
  readonly allowance: number;
  /** Manual top-ups in the current period. */
  readonly extra: number;
  /** Units reserved or spent in the current period. */
  readonly used: number;
  readonly available: number;
  /** Refunds waiting for their delay to pass. */
  readonly pendingRefunds: number;
}

export interface WebhookState {
  readonly token: string;
  readonly enabled: boolean;
  readonly rotatedAt: number;
}

/** One call to the webhook, as the attempt log keeps it (the last 100); attempts/attempt-log.ts builds it. */
export interface Attempt {
  readonly seq: number;
  readonly at: number;
  readonly remoteAddress: string | null;
  /** The body as received, cut at 4 KiB. */
  readonly request: string;
  readonly status: number;
  readonly response: string;
  readonly messageId: string | null;
  /** Which recipient field was used, and notes such as ignored fields. */
  readonly notes: string | null;
  /** The message's later outcome: sent, delivered, read, failed: <reason>. */
  readonly outcome: string | null;
  readonly outcomeAt: number | null;
}

export type NewAttempt = Omit<Attempt, 'seq' | 'outcome' | 'outcomeAt'>;
