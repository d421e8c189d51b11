/**
 * Time as a parameter: the connection's backoffs, pauses and call timeouts run on these timers, so
 * tests drive them with a fake clock instead of waiting.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Opaque to callers; the real clock keeps a Node timer in it. */
export interface TimerHandle {
  readonly timer?: unknown;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => ({ timer: setTimeout(callback, Math.max(0, Math.min(ms, MAX_TIMER_MS))) }),
  clearTimeout: (handle) => clearTimeout(handle?.timer as NodeJS.Timeout | undefined),
};

/** Node clamps longer delays to 1 ms; a pause of weeks is re-armed when it fires early. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A socket call that did not answer in time. Baileys' own calls can hang for a minute and resolve empty. */
export class CallTimeoutError extends Error {
  constructor(readonly what: string, readonly ms: number) {
    super(`${what} did not answer within ${Math.round(ms / 1000)} s`);
    this.name = 'CallTimeoutError';
  }
}

/** Settles with `work`, or rejects with CallTimeoutError after `ms`; the timer never outlives the call. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string, clock: Clock = realClock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new CallTimeoutError(what, ms)), ms);
    work.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Waits `ms` on the clock; an abort ends the wait early (without error). */
export function delay(ms: number, clock: Clock, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
