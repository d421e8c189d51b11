import type { SendRequest } from '../contract/types';
import type { MessageChange, MessageStatus } from '../model';
import type { Acceptance } from '../workspace';
import { externalMessageId } from './message-id';

/** Lifecycle steps worth a flow's attention; `queued` and `sending` are internal. */
export const REPORTED_STATUSES: ReadonlySet<MessageStatus> = new Set(['sent', 'delivered', 'read', 'played', 'failed']);

/** What a flow receives for an accepted message, in both engines. */
export function acceptedPayload(acceptance: Acceptance, request: SendRequest) {
  return {
    message_id: externalMessageId(acceptance.messageId),
    account: { id: acceptance.account.id, phone: acceptance.account.phone },
    recipient: request.recipient,
    messages: acceptance.messages.map((message) => ({ message_id: externalMessageId(message.id), part: message.part })),
    units: acceptance.units,
    request,
  };
}

/** What a flow receives for a lifecycle change, in both engines (like TimelinesAI's outbound webhooks). */
export function lifecyclePayload(change: MessageChange) {
  return {
    message_id: externalMessageId(change.messageId),
    request_message_id: externalMessageId(change.requestId),
    account_id: change.accountId,
    status: change.status,
    reason: change.reason,
    at: new Date(change.at).toISOString(),
  };
}
