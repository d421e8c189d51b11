import type { Account } from '../model';
import { fail, ok, reject, type Result } from '../rejection';

/**
 * The account a request sends from: the one whose phone is `accountPhone`, else the most recently
 * connected active account (the seed's default).
 */
export function chooseAccount(accounts: readonly Account[], accountPhone: string | undefined): Result<Account> {
  if (accounts.length === 0) {
    return fail(
      reject(422, 'This workspace has no WhatsApp account yet: link a phone (or add a dry-run account) before sending.'),
    );
  }
  if (accountPhone !== undefined) {
    const named = accounts.find((account) => account.phone === accountPhone);
    return named
      ? ok(named)
      : fail(
          reject(
            422,
            `Field "whatsapp_account_phone" is +${accountPhone}, which is not a WhatsApp account of this workspace.`,
            'whatsapp_account_phone',
          ),
        );
  }
  const active = accounts.filter((account) => account.active);
  if (active.length === 0) {
    return fail(reject(422, 'No WhatsApp account of this workspace is active: link a phone again before sending.'));
  }
  return ok(active.reduce((best, account) => (connectedRank(account) > connectedRank(best) ? account : best)));
}

/** Never-connected accounts rank by creation, after every connected one. */
function connectedRank(account: Account): number {
  return account.connectedAt ?? account.createdAt - Number.MAX_SAFE_INTEGER / 2;
}
