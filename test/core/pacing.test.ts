import { capWait, warmedUpCaps, warmupFraction } from '../../shared/dispatch/pacing';

const DAY = 24 * 3_600_000;
const LINKED = Date.UTC(2026, 10, 1);

describe('capWait: the per-minute cap beside the hourly and daily ones', () => {
  it('waits one average slot of the first full window, counting each window back from now', async () => {
    const now = LINKED + 10 * DAY;
    const asked: number[] = [];
    const counts = (sent: Record<number, number>) => async (since: number) => {
      asked.push(now - since);
      return sent[now - since] ?? 0;
    };
    expect(await capWait({ perMinute: 4, perHour: 100 }, counts({ 60_000: 4 }), now)).toBe(15_000);
    expect(asked).toEqual([60_000]);
    asked.length = 0;
    expect(await capWait({ perMinute: 4, perHour: 100, perDay: 500 }, counts({ 60_000: 3, 3_600_000: 100 }), now)).toBe(36_000);
    expect(asked).toEqual([60_000, 3_600_000]);
    expect(await capWait({ perMinute: 4, perHour: 100, perDay: 500 }, counts({ 60_000: 3, 3_600_000: 99, [DAY]: 499 }), now)).toBe(0);
    // A slot is never shorter than a second.
    expect(await capWait({ perMinute: 120 }, counts({ 60_000: 120 }), now)).toBe(1000);
  });
});

describe('warm-up: caps ramp in a straight line from the start fraction to full over the warm-up days', () => {
  const caps = { perMinute: 3, perHour: 100, perDay: 1000 } as const;
  const warmup = { days: 10, startFraction: 0.1 } as const;

  it.each([
    ['when linked', 0, { perMinute: 1, perHour: 10, perDay: 100 }],
    ['after 1 day', 1 * DAY, { perMinute: 1, perHour: 19, perDay: 190 }],
    ['halfway, after 5 days', 5 * DAY, { perMinute: 1, perHour: 55, perDay: 550 }],
    ['after 9.5 days', 9.5 * DAY, { perMinute: 2, perHour: 95, perDay: 955 }],
    ['after 10 days', 10 * DAY, caps],
    ['after a year', 365 * DAY, caps],
    // Another process's clock may be behind the one that linked: just linked, never a negative share.
    ['a minute before the link time', -60_000, { perMinute: 1, perHour: 10, perDay: 100 }],
  ])('%s', (_when, sinceLink, expected) => {
    expect(warmedUpCaps(caps, warmup, LINKED, LINKED + sinceLink)).toEqual(expected);
  });

  it('keeps caps that are not set unset, and never scales a cap below 1', () => {
    expect(warmedUpCaps({ perDay: 200 }, { days: 7, startFraction: 0.01 }, LINKED, LINKED)).toEqual({ perDay: 2 });
    expect(warmedUpCaps({ perHour: 5 }, { days: 7, startFraction: 0.01 }, LINKED, LINKED)).toEqual({ perHour: 1 });
    expect(warmedUpCaps({}, warmup, LINKED, LINKED)).toEqual({});
  });

  it('without a warm-up, the caps are as configured', () => {
    expect(warmedUpCaps(caps, undefined, LINKED, LINKED)).toBe(caps);
  });

  it('gives the fraction exactly', () => {
    expect(warmupFraction({ days: 4, startFraction: 0.2 }, LINKED, LINKED + DAY)).toBeCloseTo(0.4, 12);
    expect(warmupFraction({ days: 4, startFraction: 0.2 }, LINKED, LINKED + 3 * DAY)).toBeCloseTo(0.8, 12);
    expect(warmupFraction({ days: 4, startFraction: 1 }, LINKED, LINKED)).toBe(1);
  });
});
