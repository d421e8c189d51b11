import type { Account, AccountState } from '../model';
import { fail, ok, reject, type Result } from '../rejection';
import type { WorkspaceStore } from '../store/types';
import { storeKeyOf, type StoreChoice } from './store-choice';
import { openStoreReady } from './store-factory';

/** One account as the store alone knows it: which process holds its connection, if any. */
export interface AccountOwnership {
  readonly account: Account;
  /** The process sending its queue now (`host pid … id`), or undefined when none holds it. */
  readonly owner: string | undefined;
  /** The connection state its owner last reported (from the store's change feed), if any is kept. */
  readonly state: AccountState | null | undefined;
}

/** What checking a store found: it opened (and, for PostgreSQL, its schema is migrated), and its accounts. */
export interface StoreReport {
  readonly storeKey: string;
  readonly kind: StoreChoice['kind'];
  readonly accounts: readonly AccountOwnership[];
}

/**
 * Opens the store alone (no workspace, so no account connects and no ownership is taken), reads each
 * account with its owner, and closes it again: what an editor's "test" button needs to know whether the
 * settings reach the store and which process (n8n main, webhook or worker) sends for which account.
 */
export async function checkStore(choice: StoreChoice, now: number = Date.now()): Promise<Result<StoreReport>> {
  let store: WorkspaceStore;
  try {
    store = await openStoreReady(choice);
  } catch (error) {
    return fail(reject(503, `The store ${storeKeyOf(choice)} could not be opened: ${messageOf(error)}`));
  }
  try {
    const accounts = await store.accounts.list();
    const states = await lastReportedStates(store);
    const owned = await Promise.all(
      accounts.map(async (account) => ({ account, owner: await store.ownership.ownerOf(account.id, now), state: states.get(account.id) })),
    );
    return ok({ storeKey: storeKeyOf(choice), kind: choice.kind, accounts: owned });
  } catch (error) {
    return fail(reject(503, `The store ${storeKeyOf(choice)} opened but could not be read: ${messageOf(error)}`));
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** The report as one sentence: `Store … is open; +1510… (baileys): linked, sent by …; …`. */
export function describeStoreReport(report: StoreReport): string {
  const opened = report.kind === 'postgres' ? 'is open and its schema is up to date' : 'is open';
  const accounts = report.accounts.map(({ account, owner, state }) => {
    const who = account.phone ? `+${account.phone}` : account.id;
    const linked = account.active ? 'linked' : 'logged out or unlinked';
    const reported = state ? `, connection ${state.replace('_', ' ')}` : '';
    return `${who} (${account.kind}): ${linked}${reported}, ${owner ? `held by ${owner}` : 'held by no process'}`;
  });
  return `Store ${report.storeKey} ${opened}; ${accounts.length === 0 ? 'no accounts yet' : accounts.join('; ')}.`;
}

/** Each account's connection state as its owner last wrote it to the change feed (the newest kept rows). */
async function lastReportedStates(store: WorkspaceStore): Promise<Map<string, AccountState | null>> {
  const states = new Map<string, AccountState | null>();
  for (let cursor = 0; ; ) {
    const page = await store.changes.after(cursor, 1000);
    for (const change of page.changes) if (change.kind === 'account') states.set(change.accountId, change.state);
    if (page.changes.length < 1000) return states;
    cursor = page.cursor;
  }
}

/** A driver's message, without a trailing period (it ends a sentence of ours). */
function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return `${text.replace(/\.+$/, '')}.`;
}
