import { EventEmitter } from 'node:events';
import type { AccountState } from '../../model';
import { realClock, withTimeout, type Clock } from '../../time/clock';
import type { IncomingMessage, StatusUpdate } from '../types';
import { loadAuthState, readLidMappings, type StoredAuth } from './auth-state';
import { makeBaileysSocket, type AuthenticationCreds, type BaileysSocket } from './baileys-module';
import { connectionSettings, type BaileysConnectionDeps, type BaileysConnectionOptions, type ConnectionSettings } from './connection-options';
import { DirectorySync, LidMap } from './directory-sync';
import { IncomingFeed } from './incoming-feed';
import type { LinkedIdentity } from '../linking';
import type { SendingSocket } from './sender';
import { SentMessages } from './sent-messages';
import { SocketLifecycle, type SocketHandlers } from './socket-lifecycle';
import { RestrictionGuard } from './restriction-guard';
import { StoredPauses } from './stored-pauses';
import { describe } from './words';
import { WriteQueue } from './write-queue';

/**
 * One mode's state machine, as the connection drives it: linking a new phone (LinkingSession) or
 * keeping a linked one connected (ConnectedSession).
 */
export interface Session extends SendingSocket {
  /** Settles once: the phone linked (with who), or linking failed or was cancelled. */
  readonly outcome: Promise<LinkedIdentity>;
  /** Loads the stored auth and opens the first socket; the same promise on every call. */
  start(): Promise<void>;
  /** Takes the account back after another client replaced it (440), or retries at once. */
  reconnect(): void;
  /** Logs the device out on WhatsApp (unlink), then stops. */
  logout(): Promise<void>;
  /** Stops for good: timers cleared, socket closed, store writes done. */
  close(): Promise<void>;
}

/** What the connection has learned about the account, as connectionInfo() shows it. */
export interface AccountFacts {
  phone: string | null;
  name: string | null;
  /** A sentence about the state: why it is paused, logged out, replaced or reconnecting. */
  detail: string | null;
  connectedAt: number | null;
}

interface SessionEvents {
  status: StatusUpdate;
  incoming: IncomingMessage;
  state: AccountState;
  qr: string;
  'pairing-code': string;
  /** A socket closed on its own, with Baileys' disconnect code (DisconnectReason) when it had one. */
  disconnect: number | null;
}

/**
 * What both sessions of a connection share: its settings and time, the account's store (auth, write
 * queue, pauses), the chat directory, what it sent, what it learned, and the events its listeners hear.
 */
export class SessionContext {
  readonly settings: ConnectionSettings;
  readonly clock: Clock;
  readonly random: () => number;
  readonly writes: WriteQueue;
  readonly pauses: StoredPauses;
  /** What a 463 leads to: a resend by LID, a failed message, or a pause (restriction-policy.ts). */
  readonly restrictions: RestrictionGuard;
  readonly directory: DirectorySync;
  readonly sent: SentMessages;
  readonly facts: AccountFacts;
  /** Aborted when the session stops, so a wait in progress (typing, a LID lookup) ends. */
  readonly stopping = new AbortController();
  readonly incoming: IncomingFeed;
  private readonly events = new EventEmitter();

  constructor(
    options: BaileysConnectionOptions,
    readonly deps: BaileysConnectionDeps,
  ) {
    this.settings = connectionSettings(options);
    this.clock = deps.clock ?? realClock;
    this.random = deps.random ?? Math.random;
    this.writes = new WriteQueue((error) => this.reportError(error));
    this.pauses = new StoredPauses({
      accountId: deps.accountId,
      auth: deps.auth,
      writes: this.writes,
      clock: this.clock,
      restrictionPauseMs: this.settings.restrictionPauseMs,
    });
    this.directory = new DirectorySync(deps.directory, new LidMap(), (error) => this.reportError(error));
    this.sent = new SentMessages(deps.messageText);
    this.restrictions = new RestrictionGuard({
      now: () => this.clock.now(),
      call: (work, what) => this.call(work, what),
      knownLid: (phoneJid) => this.directory.lids.lidFor(phoneJid),
      sentMessage: (messageId) => this.sent.find({ id: messageId }),
      status: (update) => this.emit('status', update),
      pause: (signal) => this.pauses.apply(signal),
      reportError: (error) => this.reportError(error),
    });
    this.facts = { phone: deps.phone, name: null, detail: null, connectedAt: null };
    this.incoming = new IncomingFeed({
      emit: (message) => this.emit('incoming', message),
      clock: this.clock,
      lookupTimeoutMs: LID_LOOKUP_TIMEOUT_MS,
      stopping: this.stopping.signal,
      onError: (error) => this.reportError(error),
    });
    this.events.setMaxListeners(0);
  }

  /** A socket for a session: its events go to `handlers`, receipts and pauses to everyone. */
  socket(handlers: SocketHandlers): SocketLifecycle {
    const { settings } = this;
    return new SocketLifecycle(
      {
        options: {
          waWebSocketUrl: settings.waWebSocketUrl,
          connectTimeoutMs: settings.connectTimeoutMs,
          queryTimeoutMs: settings.callTimeoutMs,
          keepAliveIntervalMs: settings.keepAliveIntervalMs,
          logger: settings.logger,
        },
        openTimeoutMs: settings.openTimeoutMs,
        makeSocket: this.deps.makeSocket ?? makeBaileysSocket,
        clock: this.clock,
        writes: this.writes,
        signals: {
          status: (update) => this.emit('status', update),
          pause: (signal) => this.pauses.apply(signal),
          refused463: (refusal, socket) => this.restrictions.refused(refusal, socket),
          incoming: (messages, socket) => this.incoming.push(messages, (lid) => this.phoneOfLid(socket, lid)),
        },
        getMessage: (key) => this.sent.find(key),
        isOurSend: (id) => this.sent.has(id),
        cachedGroupMetadata: async (jid) => this.directory.groupMetadata(jid),
      },
      handlers,
    );
  }

  /** Restores a pause the store kept across a restart, then loads the auth state (`create`: new creds for a link). */
  async loadAuth(create: boolean): Promise<StoredAuth | undefined> {
    const { auth, accountId, baileys } = this.deps;
    this.pauses.restore(await auth.readDeviceState(accountId));
    return loadAuthState({ repository: auth, accountId, now: () => this.clock.now(), logger: this.settings.logger, ...(baileys ? { baileys } : {}) }, create);
  }

  /** Seeds the directory's LID map from the mappings Baileys stored. */
  async loadLidMap(): Promise<void> {
    for (const mapping of await readLidMappings(this.deps.auth, this.deps.accountId)) this.directory.lids.add(mapping.lid, mapping.pn);
  }

  /** Our own phone and name, from creds Baileys updates in place (its socket's `user` is a snapshot). */
  learnIdentity(creds: AuthenticationCreds | undefined): void {
    const me = creds?.me;
    if (me?.id) this.facts.phone = phoneOf(me.id);
    const name = accountName(me);
    if (name !== null) this.facts.name = name;
  }

  /** The phone JID of a LID: the directory's map first (it also learns from contacts), then Baileys' own. */
  private async phoneOfLid(socket: BaileysSocket, lid: string): Promise<string | null | undefined> {
    return this.directory.lids.phoneFor(lid) ?? socket.signalRepository?.lidMapping.getPNForLID(lid);
  }

  /** Every call on the socket ends in time: Baileys' own can hang for a minute. */
  call<T>(work: Promise<T>, what: string): Promise<T> {
    return withTimeout(work, this.settings.callTimeoutMs, `WhatsApp (${what})`, this.clock);
  }

  /** A session stopped: a wait in progress ends, pause timers stop. */
  stop(): void {
    this.stopping.abort();
    this.pauses.stop();
  }

  /** After a stop: waits for the directory's and the store's writes, then drops every listener. */
  async drain(): Promise<void> {
    await this.restrictions.idle();
    await this.incoming.idle();
    await this.directory.flushed();
    await this.writes.idle();
    this.events.removeAllListeners();
  }

  emit<E extends keyof SessionEvents>(event: E, value: SessionEvents[E]): void {
    this.events.emit(event, value);
  }

  listen<E extends keyof SessionEvents>(event: E, listener: (value: SessionEvents[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  reportError(error: unknown): void {
    (this.deps.onError ?? ((e) => process.emitWarning(`WhatsApp connection: ${describe(e)}`)))(error);
  }
}

/** A message waits at most this long for its LID-only sender's phone. */
const LID_LOOKUP_TIMEOUT_MS = 2_000;

/** `15105566777:12@s.whatsapp.net` → `15105566777`. */
export function phoneOf(jid: string): string {
  return jid.split('@')[0]!.split(':')[0]!;
}

/** The name in our creds; `~` is WhatsApp's "no name". */
export function accountName(me: { readonly name?: string | undefined } | undefined): string | null {
  return me?.name && me.name !== '~' ? me.name : null;
}
