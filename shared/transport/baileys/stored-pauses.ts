import type { AuthStateRepository, DeviceState } from '../../store/types';
import { MAX_TIMER_MS, type Clock, type TimerHandle } from '../../time/clock';
import { updateDeviceState } from './device-state';
import { PauseBook, type Pause } from './pauses';
import type { PauseSignal } from './receipts';
import type { WriteQueue } from './write-queue';

export interface StoredPausesDeps {
  readonly accountId: string;
  readonly auth: AuthStateRepository;
  readonly writes: WriteQueue;
  readonly clock: Clock;
  /** How long a pause without an end (a bare 463) lasts. */
  readonly restrictionPauseMs: number;
}

/**
 * The account's pauses as a connection keeps them: stored, so a restart does not lift one, and timed,
 * so each lifts itself when it ends. Tells its listener after every change (the state shows a pause).
 */
export class StoredPauses {
  private readonly book: PauseBook;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private changed: () => void = () => undefined;

  constructor(private readonly deps: StoredPausesDeps) {
    this.book = new PauseBook(deps.restrictionPauseMs);
  }

  onChange(listener: () => void): void {
    this.changed = listener;
  }

  /** The pause the store kept across a restart, if it still holds. */
  restore(device: DeviceState): void {
    if (device.pausedUntil === null || device.pausedUntil <= this.deps.clock.now()) return;
    this.book.restore({ until: device.pausedUntil, reason: device.pauseReason ?? 'Sending is paused.' });
    this.refresh();
  }

  apply(signal: PauseSignal): void {
    this.book.apply(signal, this.deps.clock.now());
    this.refresh();
  }

  /** Lifts every pause now (the owner knows better, e.g. after appealing a restriction). */
  clear(): void {
    this.book.clear();
    this.refresh();
  }

  current(): Pause | null {
    return this.book.current(this.deps.clock.now());
  }

  /** The connection stopped: no timer any more. */
  stop(): void {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.timer);
  }

  /** Persists the pause that holds (a restart must not lift it), and arms a timer for its end. */
  private refresh(): void {
    const { clock, writes, auth, accountId } = this.deps;
    const now = clock.now();
    const pause = this.book.current(now);
    const until = pause?.until ?? null;
    const reason = pause?.reason ?? null;
    writes.add(() => updateDeviceState(auth, accountId, { pausedUntil: until, pauseReason: reason }));
    clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (until !== null && !this.stopped) {
      this.timer = clock.setTimeout(() => this.refresh(), Math.min(until - now, MAX_TIMER_MS));
    }
    this.changed();
  }
}
