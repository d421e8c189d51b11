import type { SendRequest } from '../contract/types';
import type { Account } from '../model';
import { fail, ok, reject, type Result } from '../rejection';
import { chooseAccount } from './accounts';
import type { ChatDirectory } from './directory';

export interface ResolvedRecipient {
  readonly account: Account;
  /** Null for a phone number, whose JID WhatsApp tells when sending. */
  readonly jid: string | null;
}

/**
 * Resolves what can be resolved locally at acceptance. A chat id fixes the account (the seed: the account
 * phone is then ignored); a chat name is looked up among the named account's chats, or all of them.
 */
export function resolveRecipient(
  request: SendRequest,
  accounts: readonly Account[],
  directory: ChatDirectory,
): Result<ResolvedRecipient> {
  const { field, value } = request.recipient;
  if (field === 'chat_id') {
    const chat = directory.get(value);
    const account = chat && accounts.find((candidate) => candidate.id === chat.accountId);
    if (!chat || !account) {
      return fail(
        reject(422, `Field "chat_id" is ${value}, but no chat with that id exists in this workspace; list the chats to find its id.`, 'chat_id'),
      );
    }
    return ok({ account, jid: chat.jid });
  }

  const chosen = chooseAccount(accounts, request.accountPhone);
  if (field === 'chat_name') return resolveChatName(value, request.accountPhone === undefined ? undefined : chosen, accounts, directory);
  if (!chosen.ok) return chosen;
  return ok({ account: chosen.value, jid: field === 'jid' ? value : null });
}

function resolveChatName(
  name: string,
  namedAccount: Result<Account> | undefined,
  accounts: readonly Account[],
  directory: ChatDirectory,
): Result<ResolvedRecipient> {
  if (namedAccount && !namedAccount.ok) return namedAccount;
  const matches = directory.findByName(name, namedAccount?.value.id);
  if (matches.length > 1) {
    return fail(reject(422, `Field "chat_name" matches ${matches.length} chats named "${name}"; use "chat_id" to choose one.`, 'chat_name'));
  }
  const chat = matches[0];
  const account = chat && accounts.find((candidate) => candidate.id === chat.accountId);
  if (!chat || !account) {
    return fail(reject(422, `Field "chat_name" is "${name}", but no chat has exactly that name in this workspace.`, 'chat_name'));
  }
  return ok({ account, jid: chat.jid });
}
