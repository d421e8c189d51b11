import type { QuotaState } from '../model';
import type { QuotaPolicy } from './types';

/** A period's quota as both stores report it: what is left is the allowance plus top-ups, less what is used. */
export function quotaState(policy: QuotaPolicy, periodKey: string, extra: number, used: number, pendingRefunds: number): QuotaState {
  return {
    period: policy.period,
    periodKey,
    allowance: policy.allowance,
    extra,
    used,
    available: Math.max(0, policy.allowance + extra - used),
    pendingRefunds,
  };
}
