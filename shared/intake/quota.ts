import type { QuotaPeriod } from '../model';
import type { SendRequest } from '../contract/types';

/**
 * The spec's cost rule: one unit per WhatsApp message, so non-empty text plus a file costs 2 (two
 * messages) and a file alone or text alone costs 1.
 */
export function unitsFor(request: Pick<SendRequest, 'text' | 'file'>): number {
  return (request.text.length > 0 ? 1 : 0) + (request.file ? 1 : 0);
}

/** The ledger row a moment belongs to, in UTC: "all", "2026-11-28" or "2026-11". */
export function periodKeyAt(period: QuotaPeriod, now: number): string {
  if (period === 'none') return 'all';
  const iso = new Date(now).toISOString();
  return period === 'daily' ? iso.slice(0, 10) : iso.slice(0, 7);
}

export function describeShortfall(available: number, needed: number): string {
  return `Not enough messaging quota: ${available} ${available === 1 ? 'unit is' : 'units are'} available and this request needs ${needed}; nothing was queued.`;
}
