import { ThrottleBackoff, THROTTLE_MAX_MS, THROTTLE_MIN_MS } from '../../shared/dispatch/throttle';

describe('ThrottleBackoff', () => {
  it('doubles its ceiling with each refusal in a row up to a minute, waiting between half and all of it', () => {
    const backoff = new ThrottleBackoff();
    const highest = Array.from({ length: 9 }, () => backoff.next(() => 1));
    expect(highest).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    const lowest = new ThrottleBackoff();
    expect([lowest.next(() => 0), lowest.next(() => 0)]).toEqual([THROTTLE_MIN_MS / 2, THROTTLE_MIN_MS]);
    expect(THROTTLE_MAX_MS).toBe(60_000);
  });

  it('starts over after a send went through', () => {
    const backoff = new ThrottleBackoff();
    backoff.next(() => 1);
    backoff.next(() => 1);
    backoff.reset();
    expect(backoff.next(() => 1)).toBe(1_000);
  });
});
