import type { AccountState } from '../model';
import { describeStoreFault } from '../unavailable';

/** `/healthz`: whether the store answers, and each account's state. */
export interface WorkspaceHealth {
  /**
   * `down`: the store does not answer (nothing can be accepted); `degraded`: it answers, but an account
   * whose state is known is not open (it cannot send now); `ok`: otherwise.
   */
  readonly status: 'ok' | 'degraded' | 'down';
  /** `reachable`, or why not in a sentence. */
  readonly store: string;
  /** State null: this process does not connect the account and no other reported its state. */
  readonly accounts: readonly { readonly id: string; readonly phone: string | null; readonly state: AccountState | null }[];
}

/** The health of a workspace: `probe` reads the store once; `accounts` as this process knows them. */
export async function checkHealth(probe: () => Promise<unknown>, accounts: WorkspaceHealth['accounts']): Promise<WorkspaceHealth> {
  const store = await probe().then(
    () => 'reachable',
    (error: unknown) => describeStoreFault(error),
  );
  const status = store !== 'reachable' ? 'down' : accounts.some((account) => account.state !== null && account.state !== 'open') ? 'degraded' : 'ok';
  return { status, store, accounts };
}
