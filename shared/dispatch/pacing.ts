/** The random pause between two sends of one account, against WhatsApp's spam detection. */
export interface GapRange {
  readonly minMs: number;
  readonly maxMs: number;
}

/** The spec's "about 2 s, random": uniform in 1.5–2.5 s. Never a fixed gap, which looks automated. */
export const DEFAULT_GAP: GapRange = { minMs: 1500, maxMs: 2500 };

export function randomGap(range: GapRange, random: () => number = Math.random): number {
  return range.minMs + random() * (range.maxMs - range.minMs);
}

/** Optional per-account send caps, counted from the outbox so they survive restarts. */
export interface SendCaps {
  readonly perHour?: number;
  readonly perDay?: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * How long to wait before the next send may go out under the caps (0 = now). When a cap is full, the
 * wait is one average slot of that window, then the count is taken again.
 */
export async function capWait(
  caps: SendCaps,
  countSentSince: (since: number) => Promise<number>,
  now: number,
): Promise<number> {
  for (const [cap, window] of [
    [caps.perHour, HOUR],
    [caps.perDay, DAY],
  ] as const) {
    if (cap === undefined) continue;
    if ((await countSentSince(now - window)) >= cap) return Math.max(1000, Math.floor(window / cap));
  }
  return 0;
}
