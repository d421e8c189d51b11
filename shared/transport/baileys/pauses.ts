import type { PauseSignal, PauseSource } from './receipts';

/** The pause that holds now: the one that ends last, with its reason. */
export interface Pause {
  readonly until: number;
  readonly reason: string;
}

/**
 * The account's pauses, one per source (a 463 restriction, the reach-out lock, the message cap). They
 * overlap and end independently; sending resumes when the last one ends.
 */
export class PauseBook {
  private readonly pauses = new Map<PauseSource | 'restored', Pause>();

  /** `defaultMs`: how long a pause without an end (a bare 463) lasts. */
  constructor(private readonly defaultMs: number) {}

  apply(signal: PauseSignal, now: number): void {
    if (signal.kind === 'resume') this.pauses.delete(signal.source);
    else this.pauses.set(signal.source, { until: signal.until ?? now + this.defaultMs, reason: signal.reason });
  }

  /** A pause kept in the store across a restart; only its end and reason survive. */
  restore(pause: Pause): void {
    this.pauses.set('restored', pause);
  }

  clear(): void {
    this.pauses.clear();
  }

  /** Drops the pauses that have ended and returns the one that ends last, if any. */
  current(now: number): Pause | null {
    let latest: Pause | null = null;
    for (const [source, pause] of this.pauses) {
      if (pause.until <= now) this.pauses.delete(source);
      else if (!latest || pause.until > latest.until) latest = pause;
    }
    return latest;
  }
}
