import type { StatusUpdate } from '../types';
import type { BaileysSocket, ProtoMessage } from './baileys-module';
import { userJid } from './directory-sync';
import type { PauseSignal, Refusal463Ack } from './receipts';
import { decide463, mayRetryByLid, type Refusal463 } from './restriction-policy';

export interface RestrictionGuardDeps {
  readonly now: () => number;
  /** Every call on the socket ends in time. */
  call<T>(work: Promise<T>, what: string): Promise<T>;
  /** The LID the chat directory learned for a phone JID, if any. */
  readonly knownLid: (phoneJid: string) => string | undefined;
  /** The message as it was sent, to send again (recent sends, else the outbox's text). */
  readonly sentMessage: (messageId: string) => Promise<ProtoMessage | undefined>;
  readonly status: (update: StatusUpdate) => void;
  readonly pause: (signal: PauseSignal) => void;
  readonly reportError: (error: unknown) => void;
}

/** Messages resent by LID remembered at most (their 463, if any, comes within seconds). */
const RESENT_LIMIT = 500;

/**
 * Applies restriction-policy.ts to the 463s of one connection: looks up the contact's LID (the chat
 * directory's map, then Baileys' `lidMapping.getLIDForPN`), resends the same message id to it once, and
 * fails the message or pauses the account as the policy says. The counted 463s of the last hour are kept
 * here, for as long as the connection lives.
 */
export class RestrictionGuard {
  private history: readonly Refusal463[] = [];
  /** Message id → the phone JID it was first sent to, for messages resent by LID. */
  private readonly resent = new Map<string, string>();
  private work: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RestrictionGuardDeps) {}

  /** Handled one at a time, in order: each decision needs the history the one before left. */
  refused(refusal: Refusal463Ack, socket: BaileysSocket): void {
    this.work = this.work.then(() => this.handle(refusal, socket)).catch((error: unknown) => this.deps.reportError(error));
  }

  /** Resolves once every 463 heard so far is handled (tests, shutdown). */
  idle(): Promise<void> {
    return this.work;
  }

  private async handle({ messageId, sentTo }: Refusal463Ack, socket: BaileysSocket): Promise<void> {
    const firstSentTo = this.resent.get(messageId);
    const recipient = firstSentTo ?? userJid(sentTo) ?? sentTo;
    const retry = mayRetryByLid(recipient, firstSentTo !== undefined) ? await this.resendable(socket, recipient, messageId) : undefined;
    if (retry && (await this.resend(socket, recipient, messageId, retry))) return;
    this.count(messageId, recipient, firstSentTo !== undefined);
  }

  /** A resend by LID, when the policy wants one; false when it does not, or the resend failed. */
  private async resend(socket: BaileysSocket, phoneJid: string, messageId: string, retry: { lid: string; message: ProtoMessage }): Promise<boolean> {
    const { decision } = decide463(this.history, { recipient: phoneJid, at: this.deps.now(), lid: retry.lid, resentByLid: false });
    if (decision.kind !== 'retry-by-lid') return false;
    this.resent.set(messageId, phoneJid);
    if (this.resent.size > RESENT_LIMIT) this.resent.delete(this.resent.keys().next().value!);
    try {
      await this.deps.call(socket.relayMessage(decision.jid, retry.message, { messageId }), 'resending the message to the LID');
      return true;
    } catch {
      // Not resent (the connection closed, no answer in time): the 463 counts as it came.
      this.resent.delete(messageId);
      return false;
    }
  }

  /** A 463 that is not resent: the message fails, and a repeat across contacts pauses the account. */
  private count(messageId: string, recipient: string, resentByLid: boolean): void {
    const { decision, history } = decide463(this.history, { recipient, at: this.deps.now(), lid: null, resentByLid });
    this.history = history;
    if (decision.kind === 'retry-by-lid') return;
    this.deps.status({ messageId, status: 'failed', reason: decision.kind === 'pause-account' ? decision.messageReason : decision.reason });
    if (decision.kind === 'pause-account') this.deps.pause({ kind: 'pause', source: 'restriction', until: null, reason: decision.reason });
  }

  /** The contact's LID and the message to send to it; undefined when either is unknown. */
  private async resendable(socket: BaileysSocket, phoneJid: string, messageId: string): Promise<{ lid: string; message: ProtoMessage } | undefined> {
    const lid = this.deps.knownLid(phoneJid) ?? userJid(await this.baileysLid(socket, phoneJid));
    if (!lid?.endsWith('@lid')) return undefined;
    const message = await this.deps.sentMessage(messageId).catch(() => undefined);
    return message ? { lid, message } : undefined;
  }

  private async baileysLid(socket: BaileysSocket, phoneJid: string): Promise<string | null | undefined> {
    const mapping = socket.signalRepository?.lidMapping;
    if (!mapping) return undefined;
    // No LID in time is no LID: the 463 is then counted as it is.
    return this.deps.call(mapping.getLIDForPN(phoneJid), 'the LID lookup').catch(() => undefined);
  }
}
