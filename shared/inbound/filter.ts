import type { IncomingKind } from '../transport/types';
import type { ReceivedMessage } from './received';

/** Which received messages a trigger emits; an empty list means "any". */
export interface ReceivedFilter {
  /** Accounts, by id or phone (digits, a leading + allowed). */
  readonly accounts?: readonly string[];
  /** Chats, by chat_id or JID. */
  readonly chats?: readonly string[];
  readonly chatKinds?: 'all' | 'direct' | 'groups';
  readonly types?: readonly IncomingKind[];
  /** Messages the account itself sent (from the phone): excluded unless asked for. */
  readonly includeOwn?: boolean;
}

export function matchesFilter(message: ReceivedMessage, filter: ReceivedFilter): boolean {
  if (message.from_me && !filter.includeOwn) return false;
  if (filter.chatKinds === 'direct' && message.is_group) return false;
  if (filter.chatKinds === 'groups' && !message.is_group) return false;
  if (filter.types?.length && !filter.types.includes(message.type)) return false;
  if (filter.accounts?.length) {
    const phone = message.account.phone;
    const named = filter.accounts.some((account) => account === message.account.id || (phone !== null && account.replace(/^\+/, '') === phone));
    if (!named) return false;
  }
  if (filter.chats?.length && !filter.chats.includes(message.chat_id) && !filter.chats.includes(message.chat_jid)) return false;
  return true;
}
