/**
 * How an account backs off while its provider says it sends too fast (the Cloud API's 130429, 131056,
 * 80007, HTTP 429): from 1 s, doubling with each refusal in a row, up to a minute; a send that goes
 * through starts it over. Jittered, so that several accounts throttled together do not retry in step.
 */
export const THROTTLE_MIN_MS = 1_000;
export const THROTTLE_MAX_MS = 60_000;

export class ThrottleBackoff {
  private refusals = 0;

  /** The wait after one more refusal: between half and all of the current ceiling. */
  next(random: () => number = Math.random): number {
    const ceiling = Math.min(THROTTLE_MAX_MS, THROTTLE_MIN_MS * 2 ** this.refusals);
    this.refusals++;
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  /** A send went through: the next refusal waits the shortest again. */
  reset(): void {
    this.refusals = 0;
  }
}
