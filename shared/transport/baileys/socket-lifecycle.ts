import type { Clock, TimerHandle } from '../../time/clock';
import type { IncomingMessage, StatusUpdate } from '../types';
import type { StoredAuth } from './auth-state';
import type { AuthenticationCreds, BaileysEventMap, BaileysSocket, GroupMetadata, ProtoMessage, SocketFactory, SocketOptions, WAMessageKey } from './baileys-module';
import { fromMessageCapping, fromMessageUpdates, fromReachoutTimeLock, fromReceiptUpdates, fromUpserts, type PauseSignal, type Refusal463Ack } from './receipts';
import { seconds } from './words';
import { accountSelf, incomingFrom } from './incoming';
import type { WriteQueue } from './write-queue';

/** What a session does with its socket's events; open and close carry the socket's number. */
export interface SocketHandlers {
  qr(qr: string): void;
  /** Every batch, after its receipts and pauses and before its open or close. */
  batch(events: Partial<BaileysEventMap>): void;
  open(generation: number): void;
  closed(generation: number, error: unknown): void;
}

/** What every socket reports alike, whatever the session: receipts of our messages, and pauses. */
export interface SocketSignals {
  status(update: StatusUpdate): void;
  pause(signal: PauseSignal): void;
  /** A 463 error ack; `socket` is the one it came on (for a resend by LID). */
  refused463(refusal: Refusal463Ack, socket: BaileysSocket): void;
  /** New messages of one batch, normalised; `socket` is the one they came on (for its LID map). */
  incoming(messages: readonly IncomingMessage[], socket: BaileysSocket): void;
}

export interface SocketSetup {
  readonly options: Omit<SocketOptions, 'auth' | 'getMessage' | 'cachedGroupMetadata'>;
  /** From a new socket to `open`; a socket that gets no further is closed as a 408. */
  readonly openTimeoutMs: number;
  readonly makeSocket: SocketFactory;
  readonly clock: Clock;
  readonly writes: WriteQueue;
  readonly signals: SocketSignals;
  readonly getMessage: (key: WAMessageKey) => Promise<ProtoMessage | undefined>;
  /** Whether a message id is one this connection sent (its echo is not an incoming message). */
  readonly isOurSend: (id: string) => boolean;
  readonly cachedGroupMetadata: (jid: string) => Promise<GroupMetadata | undefined>;
}

/**
 * A session's socket, one at a time. Every socket is numbered; events of a socket that was replaced
 * are ignored, so a late close can never undo a newer connection.
 */
export class SocketLifecycle {
  private socket: BaileysSocket | undefined;
  private auth: StoredAuth | undefined;
  private unsubscribe: (() => void) | undefined;
  private number = 0;
  private openTimer: TimerHandle | undefined;

  constructor(
    private readonly setup: SocketSetup,
    private readonly handlers: SocketHandlers,
  ) {}

  get current(): BaileysSocket | undefined {
    return this.socket;
  }

  /** The current socket's number; a handler given another one is hearing a retired socket. */
  get generation(): number {
    return this.number;
  }

  /** Retires the current socket and opens a new one with `auth`. */
  open(auth: StoredAuth): void {
    const { setup } = this;
    this.retire();
    this.auth = auth;
    const generation = ++this.number;
    let socket: BaileysSocket;
    try {
      socket = setup.makeSocket({
        auth: auth.state,
        ...setup.options,
        getMessage: setup.getMessage,
        cachedGroupMetadata: setup.cachedGroupMetadata,
      });
    } catch (error) {
      this.handlers.closed(generation, error);
      return;
    }
    this.socket = socket;
    this.unsubscribe = socket.ev.process((events) => {
      if (generation === this.number) this.onEvents(generation, events);
    });
    // Cleared once the socket opens (or, linking, shows a QR): a timer that fires finds it stuck.
    this.openTimer = setup.clock.setTimeout(() => {
      if (generation !== this.number) return;
      this.handlers.closed(generation, timedOut(`WhatsApp did not complete the connection within ${seconds(setup.openTimeoutMs)}`));
    }, setup.openTimeoutMs);
  }

  /** The socket is talking to WhatsApp: it no longer needs to open in time. */
  cancelOpenTimeout(): void {
    this.setup.clock.clearTimeout(this.openTimer);
  }

  /** Stops hearing the current socket, leaving it open (a logout's own 401 close is no news). */
  detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Detaches and ends the current socket; its later events are ignored. */
  retire(): void {
    this.setup.clock.clearTimeout(this.openTimer);
    this.openTimer = undefined;
    this.detach();
    const socket = this.socket;
    this.socket = undefined;
    this.number++;
    if (socket) {
      try {
        void Promise.resolve(socket.end(undefined)).catch(() => undefined);
      } catch {
        // A socket that fails to end is being dropped anyway.
      }
    }
  }

  private onEvents(generation: number, events: Partial<BaileysEventMap>): void {
    const { signals } = this.setup;
    const creds = events['creds.update'];
    if (creds) this.saveCreds(creds);
    const connection = events['connection.update'];
    if (connection?.reachoutTimeLock) signals.pause(fromReachoutTimeLock(connection.reachoutTimeLock));
    if (connection?.qr) this.handlers.qr(connection.qr);
    for (const { statuses, refusals463 } of [
      fromMessageUpdates(events['messages.update'] ?? []),
      fromUpserts(events['messages.upsert']?.messages ?? []),
    ]) {
      for (const update of statuses) signals.status(update);
      for (const refusal of refusals463) if (this.socket) signals.refused463(refusal, this.socket);
    }
    if (events['message-receipt.update']) {
      for (const update of fromReceiptUpdates(events['message-receipt.update'])) signals.status(update);
    }
    if (events['message-capping.update']) signals.pause(fromMessageCapping(events['message-capping.update']));
    this.receive(events['messages.upsert']);
    this.handlers.batch(events);
    if (connection?.connection === 'open') this.handlers.open(generation);
    if (connection?.connection === 'close') this.handlers.closed(generation, connection.lastDisconnect?.error);
  }

  private receive(upsert: BaileysEventMap['messages.upsert'] | undefined): void {
    const me = this.auth?.state.creds.me;
    // Messages come only after a login, and a login always names the account (creds.me).
    if (!upsert || !me || !this.socket) return;
    const messages = incomingFrom(upsert, { isOurSend: this.setup.isOurSend, self: accountSelf(me) });
    this.setup.signals.incoming(messages, this.socket);
  }

  private saveCreds(update: Partial<AuthenticationCreds>): void {
    const auth = this.auth;
    if (!auth) return;
    // Applied now, written in turn: a close in the same batch (515 after a pairing) must see the link.
    Object.assign(auth.state.creds, update);
    this.setup.writes.add(() => auth.saveCreds({}));
  }
}

/** A Boom-shaped 408, as Baileys' own timeouts are. */
function timedOut(message: string): Error {
  return Object.assign(new Error(message), { output: { statusCode: 408 } });
}
