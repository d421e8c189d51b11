import type { Clock, TimerHandle } from '../../../shared/time/clock';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Lets asynchronous reactions to a timer (promise chains, store writes) run before the next one. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock whose time moves only when a test says so. Timers fire in order of their due time as
 * `advance` passes it, with pending promise work settled between them.
 */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(start = Date.UTC(2026, 10, 28, 12)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return { timer: timer.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.timers = this.timers.filter((timer) => timer.id !== handle.timer);
  }

  /** Delays of the timers now pending, from now, in due order. */
  pendingDelays(): number[] {
    return [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id).map((timer) => timer.at - this.time);
  }

  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    await settle();
    for (;;) {
      const next = [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id).find((timer) => timer.at <= until);
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.time = Math.max(this.time, next.at);
      next.callback();
      await settle();
    }
    this.time = until;
    await settle();
  }
}
