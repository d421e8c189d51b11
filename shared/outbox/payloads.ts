import type { SendRequest } from '../contract/types';
import type { Account, MessageChange, MessagePart, MessageStatus } from '../model';
import type { FedRequest } from '../store/types';
import type { Acceptance } from '../intake/acceptance';
import { externalMessageId } from '../contract/message-id';

/** Lifecycle steps worth a flow's attention; `queued` and `sending` are internal. */
export const REPORTED_STATUSES: ReadonlySet<MessageStatus> = new Set(['sent', 'delivered', 'read', 'played', 'failed']);

/** What a flow receives for an accepted message, in both engines. */
export function acceptedPayload(acceptance: Acceptance, request: SendRequest) {
  return payload(acceptance.messageId, acceptance.account, acceptance.messages, request);
}

/** The same for a request read back from the webhook's feed (see FeedReader). */
export function fedPayload(fed: FedRequest, account: Pick<Account, 'id' | 'phone'>) {
  const { via: _via, ...rest } = JSON.parse(fed.request) as Omit<SendRequest, 'text'> & { via?: string };
  const request: SendRequest = { text: fed.text, ...rest };
  return payload(fed.requestId, account, fed.parts, request);
}

export type AcceptedPayload = ReturnType<typeof acceptedPayload>;

function payload(requestId: string, account: Pick<Account, 'id' | 'phone'>, parts: readonly { id: string; part: MessagePart }[], request: SendRequest) {
  return {
    message_id: externalMessageId(requestId),
    account: { id: account.id, phone: account.phone },
    recipient: request.recipient,
    messages: parts.map((message) => ({ message_id: externalMessageId(message.id), part: message.part })),
    // One unit per WhatsApp message: each part is one.
    units: parts.length,
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
