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
  readonly perMinute?: number;
  readonly perHour?: number;
  readonly perDay?: number;
}

/**
 * Warm-up for a newly linked number (off unless given): on the day it is linked each cap is
 * `startFraction` of itself, rising in a straight line to the full cap `days` later.
 */
export interface Warmup {
  readonly days: number;
  /** From above 0 to 1. */
  readonly startFraction: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The caps in force at `now` for an account linked at `linkedAt`: each cap times the warm-up's fraction
 * then, rounded down, never below 1 (a cap of 0 would stop the account for good). A link time after
 * `now` (clocks of two processes) counts as just linked.
 */
export function warmedUpCaps(caps: SendCaps, warmup: Warmup | undefined, linkedAt: number, now: number): SendCaps {
  if (!warmup) return caps;
  const fraction = warmupFraction(warmup, linkedAt, now);
  if (fraction >= 1) return caps;
  // Rounded to a millionth first, so 0.55 × 100 is 55 and not 54 by a floating-point hair.
  const scale = (cap: number | undefined) => (cap === undefined ? undefined : Math.max(1, Math.floor(Math.round(cap * fraction * 1e6) / 1e6)));
  const scaled = { perMinute: scale(caps.perMinute), perHour: scale(caps.perHour), perDay: scale(caps.perDay) };
  return Object.fromEntries(Object.entries(scaled).filter(([, cap]) => cap !== undefined)) as SendCaps;
}

/** The share of the caps in force: `startFraction` when linked, 1 from `days` later on. */
export function warmupFraction(warmup: Warmup, linkedAt: number, now: number): number {
  if (warmup.days <= 0) return 1;
  const progress = Math.min(1, Math.max(0, (now - linkedAt) / (warmup.days * DAY)));
  return warmup.startFraction + (1 - warmup.startFraction) * progress;
}

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
    [caps.perMinute, MINUTE],
    [caps.perHour, HOUR],
    [caps.perDay, DAY],
  ] as const) {
    if (cap === undefined) continue;
    if ((await countSentSince(now - window)) >= cap) return Math.max(1000, Math.floor(window / cap));
  }
  return 0;
}
