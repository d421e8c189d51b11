import type { Chat } from '../model';
import type { ChatDirectory } from '../recipients/directory';
import type { InboundRecord, InboundRepository, StoredInbound } from '../store/types';
import type { IncomingMessage, MessageReference } from '../transport/types';
import { receivedMessage } from './received';

/** After the store failed a write, try again in this long, doubling up to the maximum. */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** Messages kept in memory while the store is unreachable; past this the oldest are dropped (and said so). */
const MAX_WAITING = 10_000;

export interface ArrivalsDeps {
  readonly inbound: InboundRepository;
  readonly directory: ChatDirectory;
  /** Tags every record with the engine process that received it. */
  readonly via?: string;
  readonly now: () => number;
  /** The account's phone as the workspace knows it now. */
  readonly phoneOf: (accountId: string) => string | null;
  /** Newly stored messages, in order: flows may read them now. */
  readonly stored: (messages: readonly StoredInbound[]) => void;
  readonly reportError: (error: unknown) => void;
}

/**
 * Takes the messages the account's transports report and stores each once (the store ignores an id it
 * has) before any flow sees it. Messages of one turn are written in one commit; while the store fails,
 * they wait here and are written when it answers again, in order.
 */
export class Arrivals {
  private waiting: { readonly accountId: string; readonly message: IncomingMessage }[] = [];
  private flushing = false;
  private flushQueued = false;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private settleIdle: (() => void) | undefined;

  constructor(private readonly deps: ArrivalsDeps) {}

  take(accountId: string, message: IncomingMessage): void {
    if (this.closed) return;
    this.waiting.push({ accountId, message });
    if (this.waiting.length > MAX_WAITING) {
      const dropped = this.waiting.splice(0, this.waiting.length - MAX_WAITING);
      this.deps.reportError(new Error(`${dropped.length} received messages were dropped: the store has not answered for too long.`));
    }
    if (!this.flushQueued && !this.flushing && this.timer === undefined) {
      this.flushQueued = true;
      if (!this.settleIdle) this.idle = new Promise((resolve) => (this.settleIdle = resolve));
      setImmediate(() => void this.flush());
    }
  }

  /** Resolves once every message taken so far is stored (while the store fails, only after it answers). */
  settled(): Promise<void> {
    return this.idle;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.settleIdle?.();
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    if (this.flushing || this.closed) return;
    this.flushing = true;
    try {
      while (this.waiting.length > 0 && !this.closed) {
        const batch = this.waiting.slice(0, 500);
        const records = await this.recordsOf(batch);
        const stored = await this.deps.inbound.record(records, this.deps.now());
        this.waiting.splice(0, batch.length);
        this.retryMs = RETRY_MIN_MS;
        if (stored.length > 0) this.deps.stored(stored);
      }
    } catch (error) {
      this.deps.reportError(error);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.retryMs);
      this.timer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    } finally {
      this.flushing = false;
      if (this.waiting.length === 0 || this.closed) {
        this.settleIdle?.();
        this.settleIdle = undefined;
      } else if (this.timer === undefined && !this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => void this.flush());
      }
    }
  }

  private async recordsOf(batch: readonly { readonly accountId: string; readonly message: IncomingMessage }[]): Promise<InboundRecord[]> {
    const records: InboundRecord[] = [];
    for (const { accountId, message } of batch) {
      // A store fault here (the chat's write) is thrown: the batch waits and is tried again.
      const chat = await this.chatOf(accountId, message);
      const record = this.recordOf(accountId, message, chat);
      if (record) records.push(record);
    }
    return records;
  }

  /**
   * The message as stored, or null (said) for one that cannot be: a conversion fails the same way on every
   * try, so retrying it would hold every message behind it for good.
   */
  private recordOf(accountId: string, message: IncomingMessage, chat: Chat): InboundRecord | null {
    try {
      const body = receivedMessage(message, { account: { id: accountId, phone: this.deps.phoneOf(accountId) }, chat });
      const reference: MessageReference = {
        id: message.id,
        chatJid: message.chatJid,
        senderJid: message.isGroup ? message.sender.jid : null,
        fromMe: message.fromMe,
        raw: message.raw,
      };
      const via = this.deps.via === undefined ? {} : { via: this.deps.via };
      return { accountId, id: message.id, chatJid: message.chatJid, at: message.at, body: JSON.stringify(body), reference: JSON.stringify(reference), ...via };
    } catch (error) {
      this.deps.reportError(new Error(`The received message ${message.id} could not be stored and was skipped: ${error instanceof Error ? error.message : String(error)}`));
      return null;
    }
  }

  /**
   * The chat as the directory knows it, added when new (so that a reply by `chat_id` finds it). A direct
   * chat nobody named yet takes the sender's push name; a known chat costs no write.
   */
  private async chatOf(accountId: string, message: IncomingMessage): Promise<Chat> {
    const known = this.deps.directory.findByJid(accountId, message.chatJid);
    const pushName = !message.isGroup && !message.fromMe ? message.sender.pushName : null;
    if (known && (known.name !== null || pushName === null)) return known;
    const [stored] = await this.deps.directory.upsert(accountId, [{ jid: message.chatJid, name: pushName }], this.deps.now());
    return stored!;
  }
}
