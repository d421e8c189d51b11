import { withTimeout, type Clock } from '../../time/clock';
import type { IncomingMessage } from '../types';
import { withSenderPhone } from './incoming';

/** The phone JID of a LID, when some map knows it; may be slow (Baileys reads its key store). */
export type PhoneOfLid = (lid: string) => Promise<string | null | undefined>;

export interface IncomingFeedDeps {
  readonly emit: (message: IncomingMessage) => void;
  readonly clock: Clock;
  /** How long a message may wait for its sender's phone; after that it goes without. */
  readonly lookupTimeoutMs: number;
  /** Ends every wait at once (the connection stops). */
  readonly stopping: AbortSignal;
  /** A listener that threw; the next messages still go. */
  readonly onError: (error: unknown) => void;
}

/**
 * Hands new messages on in the order they came, each sender named by phone where it can be: WhatsApp
 * names more and more people by LID alone, and Baileys keeps a LID → phone map. A lookup that fails
 * or takes longer than the timeout leaves the phone null rather than holding the message.
 */
export class IncomingFeed {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: IncomingFeedDeps) {}

  push(messages: readonly IncomingMessage[], phoneOfLid: PhoneOfLid): void {
    if (messages.length === 0) return;
    // Looked up together, emitted in turn: a batch waits at most one timeout, and order holds across batches.
    const completed = Promise.all(messages.map((message) => this.complete(message, phoneOfLid)));
    this.queue = this.queue.then(async () => {
      for (const message of await completed) {
        try {
          this.deps.emit(message);
        } catch (error) {
          this.deps.onError(error);
        }
      }
    });
  }

  /** Resolves once every message pushed so far was handed on. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async complete(message: IncomingMessage, phoneOfLid: PhoneOfLid): Promise<IncomingMessage> {
    const { lid, phone } = message.sender;
    if (phone !== null || lid === null || this.deps.stopping.aborted) return message;
    const phoneJid = await this.lookup(phoneOfLid, lid);
    return phoneJid ? withSenderPhone(message, phoneJid) : message;
  }

  private async lookup(phoneOfLid: PhoneOfLid, lid: string): Promise<string | null | undefined> {
    const { clock, lookupTimeoutMs, stopping } = this.deps;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<null>((resolve) => {
      onAbort = () => resolve(null);
      stopping.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const found = Promise.resolve().then(() => phoneOfLid(lid));
      return await Promise.race([withTimeout(found, lookupTimeoutMs, 'the LID lookup', clock), stopped]);
    } catch {
      return null;
    } finally {
      stopping.removeEventListener('abort', onAbort!);
    }
  }
}
