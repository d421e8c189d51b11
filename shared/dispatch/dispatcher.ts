import Bottleneck from 'bottleneck';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DownloadedFile } from '../attachments/types';
import type { FailureCause, MessageChange, MessageStatus, OutboxMessage } from '../model';
import type { OutboxRepository } from '../store/types';
import type { MessageReference, StatusUpdate, Transport } from '../transport/types';
import { capWait, randomGap, warmedUpCaps, type GapRange, type SendCaps, type Warmup } from './pacing';
import { retryDelay, type RetryPolicy } from '../time/backoff';
import { describeFailure } from './failure';
import { ThrottleBackoff } from './throttle';
import { applyReceipt } from './receipts';

export interface DispatchOptions {
  readonly gap: GapRange;
  readonly caps: SendCaps;
  /** Caps ramp up from the account's link time (off when absent). */
  readonly warmup?: Warmup;
  readonly retry: RetryPolicy;
  /** How long a failed message's units stay spent before they are given back. */
  readonly refundDelayMs: number;
}

export interface DispatchDeps {
  readonly outbox: OutboxRepository;
  readonly transport: Transport;
  /** When the account was first linked (Account.createdAt), where a warm-up starts. */
  readonly linkedAt?: number;
  /** The workspace's owner id: a claim happens only while it holds the account (see OwnershipRepository). */
  readonly owner?: string;
  /**
   * Whether the hold on the account surely lasts through a send that starts now. A process that stalled
   * (CPU starvation, a long pause) may find its hold ran out meanwhile, and another process may have
   * taken the account and re-sent its message; it must not send that message a second time.
   */
  readonly holdsSafely?: () => boolean;
  /** The received message a reply quotes, as stored when it arrived (undefined once pruned: sent unquoted). */
  readonly quoted?: (messageId: string, accountId: string) => Promise<MessageReference | undefined>;
  readonly download: (url: string, fileName: string) => Promise<DownloadedFile>;
  /** The bytes of a file an engine attached, stored with the message. */
  readonly loadAttachment: (messageId: string, fileName: string) => Promise<DownloadedFile>;
  readonly now: () => number;
  readonly random: () => number;
  readonly onChange: (change: MessageChange) => void;
  /**
   * A send is handed to the transport now, paced: `gapMs` since the previous send of this account started
   * (null for its first since this dispatcher started). For the metrics' histogram of gaps.
   */
  readonly onSendStart?: (gapMs: number | null) => void;
  /** Errors that are no message's fault (a store that went away); the engine logs them. */
  readonly onError: (error: unknown) => void;
}

type Outcome = 'sent' | 'idle' | 'blocked';


/** How long to wait before trying a failed store write again: from 1 s, doubling, up to 30 s. */
const STORE_RETRY_MIN_MS = 1_000;
const STORE_RETRY_MAX_MS = 30_000;

/**
 * Sends one account's queued messages, one at a time with a random gap between sends. The outbox is the
 * queue: Bottleneck only ever holds the next job, so a queue of 100,000 costs no memory here. The pause
 * runs inside the job (never on top of Bottleneck's own minTime), which keeps every gap in its range.
 */
export class AccountDispatcher {
  private readonly limiter = new Bottleneck({ maxConcurrent: 1 });
  private readonly stopping = new AbortController();
  private scheduled = false;
  /** performance.now() before which the account must not send again. */
  private nextSendAt = 0;
  /** The provider's rate limit in force (see throttle.ts). */
  private readonly throttle = new ThrottleBackoff();
  /**
   * Claims of a message that were no try at all (its account paused, the provider's rate limit), by message:
   * the store counts every claim as an attempt, the retry policy only real tries. In memory: a restart forgets them.
   */
  private readonly freeClaims = new Map<string, number>();
  private wakeAgain = false;
  private timer: NodeJS.Timeout | undefined;
  /**
   * A message's outcome the store could not record (a full disk, a lost connection). Until it is, this
   * account sends nothing else: the message must not stay `sending`, nor later ones overtake it.
   */
  private unrecorded: (() => Promise<void>) | undefined;
  private storeRetryMs = STORE_RETRY_MIN_MS;
  private readonly unsubscribe: (() => void)[];

  private writes: Promise<unknown> = Promise.resolve();
  /**
   * A message of ours may be `sending` with no send in progress: the last claim's answer was lost (the
   * store may have claimed without telling us), or a claimed message was not sent because the hold ran short.
   */
  private inFlightUnknown = false;
  /** performance.now() when the previous send was handed to the transport. */
  private lastSendStartedAt: number | undefined;

  constructor(
    readonly accountId: string,
    private readonly options: DispatchOptions,
    private readonly deps: DispatchDeps,
  ) {
    this.unsubscribe = [
      deps.transport.onStateChange(() => this.wake()),
      deps.transport.onStatus((update) => void this.inOrder(() => this.track(update)).catch(deps.onError)),
    ];
  }

  /** Something may be sendable: a message was queued, a backoff ended, or the account came back. */
  wake(): void {
    if (this.stopping.signal.aborted) return;
    // An account that cannot send has nothing to schedule; its state change wakes it again. An outcome
    // still to record is written all the same.
    if (!this.deps.transport.isReady() && !this.unrecorded) return;
    if (this.scheduled) {
      this.wakeAgain = true;
      return;
    }
    this.scheduled = true;
    this.wakeAgain = false;
    this.limiter
      .schedule(() => this.sendNext())
      .then((outcome) => {
        this.scheduled = false;
        if (outcome === 'sent' || this.wakeAgain) this.wake();
      })
      .catch((error: unknown) => {
        this.scheduled = false;
        if (this.stopping.signal.aborted) return;
        // The store failed (a read before any claim): try again later rather than wait for a new message.
        this.deps.onError(error);
        this.retryStoreLater();
      });
  }

  /** Stops after the send in progress (if any) is recorded; queued messages stay queued. */
  async close(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    for (const off of this.unsubscribe) off();
    await this.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }

  private async sendNext(): Promise<Outcome> {
    if (this.stopping.signal.aborted) return 'blocked';
    if (this.unrecorded && !(await this.recordPending())) return 'blocked';
    if (!this.deps.transport.isReady()) return 'blocked';
    const now = this.deps.now();
    // Without a link time there is nothing to warm up from: the caps hold as set.
    const { linkedAt } = this.deps;
    const caps = linkedAt === undefined ? this.options.caps : warmedUpCaps(this.options.caps, this.options.warmup, linkedAt, now);
    const wait = await capWait(caps, (since) => this.deps.outbox.countSentSince(this.accountId, since), now);
    if (wait > 0) {
      this.wakeIn(wait);
      return 'blocked';
    }
    if (this.inFlightUnknown) {
      // Nothing of ours is in flight now, so put it back; only while we hold the account, since after
      // losing the hold a `sending` message is the new owner's.
      await this.deps.outbox.recoverInFlight(now, this.accountId, this.deps.owner);
      this.inFlightUnknown = false;
    }
    let message: OutboxMessage | undefined;
    try {
      message = await this.deps.outbox.claimNext(this.accountId, now, this.deps.owner);
    } catch (error) {
      this.inFlightUnknown = true;
      throw error;
    }
    if (!message) {
      await this.wakeWhenDue();
      return 'idle';
    }
    this.emit(message, 'sending', null);
    await this.record(await this.deliver(message));
    return this.unrecorded ? 'blocked' : 'sent';
  }

  /** Sends one claimed message; returns the store write that records how it went. */
  private async deliver(message: OutboxMessage): Promise<() => Promise<void>> {
    const { transport } = this.deps;
    let jid: string | undefined;
    let providerId: string | null = null;
    try {
      // The download and the number lookup happen while the pause runs, so they never stretch it. One
      // lookup per message, right after the previous send, is itself spaced by the gaps.
      const file = message.part === 'file' ? await this.fileOf(message) : undefined;
      jid = message.jid ?? (await this.resolveJid(message));
      if (jid === undefined) return async () => undefined;
      // The quoted message is read before the pause too, so that nothing stands between the hold check and the send.
      const quoted = message.quotedId === null ? undefined : await this.deps.quoted?.(message.quotedId, message.accountId);
      const options = quoted ? { quoted } : undefined;
      if (!(await this.pace())) {
        return () => this.deps.outbox.requeue(message.id, this.deps.now(), 'sending stopped before this message', this.deps.now());
      }
      if (this.deps.holdsSafely && !this.deps.holdsSafely()) {
        // Not sent, and not requeued here: if another process took the account, the message is its own now.
        this.inFlightUnknown = true;
        return async () => undefined;
      }
      this.sendStarts();
      const handedOver = file
        ? await transport.sendMedia(jid, { kind: file.kind, buffer: file.buffer, mimetype: file.mimetype, fileName: file.fileName }, message.id, options)
        : await transport.sendText(jid, message.text ?? '', message.id, options);
      // Kept only where the provider's id differs from ours, so that its receipts find the message.
      providerId = handedOver && handedOver !== message.id ? handedOver : null;
    } catch (error) {
      return () => this.handleFailure(message, error);
    }
    const sentTo = jid;
    const sentAs = providerId;
    this.throttle.reset();
    this.freeClaims.delete(message.id);
    return async () => {
      if (await this.deps.outbox.markSent(message.id, sentTo, this.deps.now(), sentAs)) this.emit(message, 'sent', null);
    };
  }

  /** Runs a store write for a message's outcome; if the store fails, keeps it to retry before anything else. */
  private async record(write: () => Promise<void>): Promise<void> {
    this.unrecorded = write;
    await this.recordPending();
  }

  /** Tries the outcome the store has not recorded yet; true once it is recorded. */
  private async recordPending(): Promise<boolean> {
    const write = this.unrecorded!;
    try {
      await this.inOrder(write);
    } catch (error) {
      this.deps.onError(error);
      this.retryStoreLater();
      return false;
    }
    this.unrecorded = undefined;
    this.storeRetryMs = STORE_RETRY_MIN_MS;
    return true;
  }

  private retryStoreLater(): void {
    this.wakeIn(this.storeRetryMs);
    this.storeRetryMs = Math.min(this.storeRetryMs * 2, STORE_RETRY_MAX_MS);
  }

  private fileOf(message: OutboxMessage): Promise<DownloadedFile> {
    return message.fileUrl === null
      ? this.deps.loadAttachment(message.id, message.fileName!)
      : this.deps.download(message.fileUrl, message.fileName!);
  }

  /**
   * Waits until a random gap has passed since the previous send started, then books the next gap.
   * Measured from start to start, so the time a send takes never stretches the gap. Returns false if
   * the dispatcher is closing.
   */
  private async pace(): Promise<boolean> {
    // Timers round to whole milliseconds and may fire a little early: wait until the moment has passed.
    for (let wait = this.nextSendAt - performance.now(); wait > 0; wait = this.nextSendAt - performance.now()) {
      await sleep(Math.ceil(wait), undefined, { signal: this.stopping.signal }).catch(() => undefined);
      if (this.stopping.signal.aborted) return false;
    }
    if (this.stopping.signal.aborted) return false;
    this.nextSendAt = performance.now() + randomGap(this.options.gap, this.deps.random);
    return true;
  }

  private async resolveJid(message: OutboxMessage): Promise<string | undefined> {
    const lookup = await this.deps.transport.resolvePhone(message.recipient.value);
    if (lookup.onWhatsApp) return lookup.jid;
    // Every part of the request goes to the same number: fail them together.
    const reason = `+${message.recipient.value} is not on WhatsApp`;
    for (const part of await this.deps.outbox.byRequest(message.requestId)) await this.fail(part, reason, 'not_on_whatsapp');
    // A run of unknown numbers must not become a burst of lookups, which WhatsApp punishes.
    await this.pace();
    return undefined;
  }

  private async handleFailure(message: OutboxMessage, error: unknown): Promise<void> {
    const failure = describeFailure(error);
    const now = this.deps.now();
    if (failure.kind === 'unavailable') {
      this.claimedFree(message.id);
      await this.deps.outbox.requeue(message.id, now, failure.reason, now);
      this.emit(message, 'queued', failure.reason);
      return;
    }
    if (failure.kind === 'throttled') {
      // The provider's rate limit: the account's next send waits, never failing for it. The message stays
      // due now, so it is the one claimed again and goes first: a later one to the same chat never overtakes it.
      const delay = this.throttle.next(this.deps.random);
      this.nextSendAt = Math.max(this.nextSendAt, performance.now() + delay);
      this.claimedFree(message.id);
      await this.deps.outbox.requeue(message.id, now, failure.reason, now);
      this.emit(message, 'queued', failure.reason);
      return;
    }
    const tries = message.attempts - (this.freeClaims.get(message.id) ?? 0);
    if (failure.kind === 'transient' && tries < this.options.retry.maxAttempts) {
      const notBefore = now + retryDelay(this.options.retry, tries, this.deps.random);
      await this.deps.outbox.requeue(message.id, notBefore, failure.reason, now);
      this.emit(message, 'queued', failure.reason);
      return;
    }
    await this.fail(message, failure.reason, failure.cause);
  }

  /** A claim of the message that was no try (see freeClaims); the oldest are forgotten past 10,000 messages. */
  private claimedFree(messageId: string): void {
    this.freeClaims.set(messageId, (this.freeClaims.get(messageId) ?? 0) + 1);
    if (this.freeClaims.size > 10_000) this.freeClaims.delete(this.freeClaims.keys().next().value!);
  }

  private async fail(message: OutboxMessage, reason: string, cause: FailureCause): Promise<void> {
    this.freeClaims.delete(message.id);
    const now = this.deps.now();
    if (await this.deps.outbox.markFailed(message.id, reason, now, now + this.options.refundDelayMs)) {
      this.emit(message, 'failed', reason, cause);
    }
  }

  private sendStarts(): void {
    const now = performance.now();
    const gap = this.lastSendStartedAt === undefined ? null : now - this.lastSendStartedAt;
    this.lastSendStartedAt = now;
    this.deps.onSendStart?.(gap);
  }

  /** Receipts and error acknowledgements that the phone sends back for our messages. */
  /**
   * Runs the store writes of a send's outcome and of receipts one after another: a receipt read while
   * the send's own record is in flight (a store that answers over the network) would see `sending` and
   * report `sent` a second time.
   */
  private inOrder<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async track(update: StatusUpdate): Promise<void> {
    await applyReceipt(
      { outbox: this.deps.outbox, now: this.deps.now, refundDelayMs: this.options.refundDelayMs, emit: (message, status, reason, cause) => this.emit(message, status, reason, cause) },
      update,
    );
  }

  private async wakeWhenDue(): Promise<void> {
    const due = await this.deps.outbox.nextDueAt(this.accountId);
    if (due !== undefined) this.wakeIn(Math.max(0, due - this.deps.now()));
  }

  private wakeIn(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => this.wake(), ms);
    // A wake-up alone never keeps a process alive: whoever hosts the workspace (a server, an engine) does.
    this.timer.unref();
  }

  private emit(message: OutboxMessage, status: MessageStatus, reason: string | null, cause?: FailureCause): void {
    this.deps.onChange({
      messageId: message.id,
      requestId: message.requestId,
      accountId: message.accountId,
      status,
      reason,
      at: this.deps.now(),
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
