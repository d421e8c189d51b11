import type { StoredInbound } from '../store/types';
import type { MessageReference } from '../transport/types';
import type { ReceivedMessage } from './received';

/** A stored received message as flows see it (InboundRecord.body). */
export function bodyOf(stored: StoredInbound): ReceivedMessage {
  return JSON.parse(stored.body) as ReceivedMessage;
}

/** What quoting a stored received message or marking it read needs (InboundRecord.reference). */
export function referenceOf(stored: StoredInbound): MessageReference {
  return JSON.parse(stored.reference) as MessageReference;
}
