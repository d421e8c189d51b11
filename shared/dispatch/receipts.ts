import type { FailureCause, MessageStatus, OutboxMessage } from '../model';
import type { OutboxRepository } from '../store/types';
import type { StatusUpdate } from '../transport/types';

export interface ReceiptDeps {
  readonly outbox: Pick<OutboxRepository, 'get' | 'idForProviderId' | 'markReceipt' | 'markFailed'>;
  readonly now: () => number;
  /** How long a failed message's units stay spent before they are given back. */
  readonly refundDelayMs: number;
  readonly emit: (message: OutboxMessage, status: MessageStatus, reason: string | null, cause?: FailureCause) => void;
}

/** applied: the message moved on; unknown: no message of ours has that id (yet); unchanged: it already had moved on. */
export type ReceiptOutcome = 'applied' | 'unknown' | 'unchanged';

/**
 * A receipt of one of our sends (delivered, read, or the provider's failure), recorded on its message.
 * Receipts name the message by the provider's id: ours for Baileys, its own for a provider that assigns
 * one (the Cloud API's wamid, kept by markSent). The store's writes only ever move a message forward,
 * so a receipt applied twice (a replayed webhook) changes nothing the second time.
 */
export async function applyReceipt(deps: ReceiptDeps, update: StatusUpdate): Promise<ReceiptOutcome> {
  const message =
    (await deps.outbox.get(update.messageId)) ??
    (await deps.outbox.idForProviderId(update.messageId).then((id) => (id === undefined ? undefined : deps.outbox.get(id))));
  if (!message) return 'unknown';
  const now = deps.now();
  if (update.status === 'failed') {
    if (!(await deps.outbox.markFailed(message.id, update.reason, now, now + deps.refundDelayMs))) return 'unchanged';
    deps.emit(message, 'failed', update.reason, 'rejected_by_whatsapp');
    return 'applied';
  }
  if (!(await deps.outbox.markReceipt(message.id, update.status, now))) return 'unchanged';
  // A receipt that overtook the send's own confirmation proves it sent: flows see 'sent' first.
  if (message.status === 'sending') deps.emit(message, 'sent', null);
  deps.emit(message, update.status, null);
  return 'applied';
}
