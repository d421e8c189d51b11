import type { AuthStateRepository, DeviceState } from '../../store/types';

export interface DeviceStateUpdate {
  /**
   * Erase the account's creds, keys and device state between the read and the write (a logout): the
   * changed state is then always written, since the erase took the old one with it.
   */
  readonly eraseAuth?: boolean;
}

/**
 * The one read-modify-write of an account's device state (its pause, its logout time): applies `change`
 * to what is stored and writes the result back, skipping a write that would change nothing.
 */
export async function updateDeviceState(
  repository: AuthStateRepository,
  accountId: string,
  change: Partial<DeviceState>,
  { eraseAuth = false }: DeviceStateUpdate = {},
): Promise<void> {
  const stored = await repository.readDeviceState(accountId);
  const updated: DeviceState = { ...stored, ...change };
  if (eraseAuth) await repository.clear(accountId);
  else if (sameDeviceState(stored, updated)) return;
  await repository.writeDeviceState(accountId, updated);
}

function sameDeviceState(a: DeviceState, b: DeviceState): boolean {
  return a.pausedUntil === b.pausedUntil && a.pauseReason === b.pauseReason && a.loggedOutAt === b.loggedOutAt;
}
