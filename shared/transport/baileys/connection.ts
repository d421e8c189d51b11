import { EventEmitter } from 'node:events';
import type { AccountState } from '../../model';
import { realClock, withTimeout, type Clock, type TimerHandle } from '../../time/clock';
import { TransportError, type OutgoingMedia, type PhoneLookup, type StatusUpdate, type Transport } from '../types';
import { isLinked, loadAuthState, readLidMappings, type StoredAuth } from './auth-state';
import { updateDeviceState } from './device-state';
import { disconnectCode, makeBaileysSocket, type BaileysSocket, type ILogger } from './baileys-module';
import { connectionSettings, type BaileysConnectionDeps, type BaileysConnectionOptions, type ConnectionSettings } from './connection-options';
import { DirectorySync, LidMap } from './directory-sync';
import { describeDisconnect, disconnectAction, reconnectDelay } from './disconnect-policy';
import type { LinkedIdentity, LinkSource } from './linking';
import { Sender } from './sender';
import { SentMessages } from './sent-messages';
import { SocketLifecycle } from './socket-lifecycle';
import { StoredPauses } from './stored-pauses';
import { describe, seconds } from './words';
import { WriteQueue } from './write-queue';

export { DEFAULT_TYPING, type BaileysConnectionDeps, type BaileysConnectionOptions, type TypingPolicy } from './connection-options';

/** `connect`: a linked account; `link`: link a new phone by QR, or by pairing code for `pairingPhone`. */
export type ConnectionMode = { readonly kind: 'connect' } | { readonly kind: 'link'; readonly pairingPhone?: string };

/** An account's connection as the workspace reports it. */
export interface ConnectionInfo {
  readonly state: AccountState;
  readonly phone: string | null;
  readonly name: string | null;
  /** A sentence about the state: why it is paused, logged out, replaced or reconnecting. */
  readonly detail: string | null;
  readonly pausedUntil: number | null;
  readonly connectedAt: number | null;
}

/** Where the socket is, apart from pauses (a pause only shows while the socket is open). */
type Lifecycle = 'linking' | 'connecting' | 'open' | 'reconnecting' | 'logged_out' | 'replaced' | 'stopped';

/**
 * One linked WhatsApp account over Baileys: the core's Transport, and the state machine that keeps it
 * connected for months. Every socket is numbered; events of a socket that was replaced are ignored,
 * so a late close can never undo a newer connection.
 */
export class BaileysConnection implements Transport, LinkSource {
  readonly outcome: Promise<LinkedIdentity>;
  private readonly events = new EventEmitter();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: ILogger;
  private readonly directory: DirectorySync;
  private readonly settings: ConnectionSettings;
  private readonly writes: WriteQueue;
  private readonly pauses: StoredPauses;
  private readonly sent: SentMessages;
  private readonly sender: Sender;
  private readonly stopping = new AbortController();
  private lifecycle: Lifecycle;
  private currentState: AccountState;
  private auth: StoredAuth | undefined;
  private readonly socket: SocketLifecycle;
  private attempts = 0;
  private reconnectTimer: TimerHandle | undefined;
  private pairingRequested = false;
  private settleLink: { resolve: (identity: LinkedIdentity) => void; reject: (error: Error) => void } | undefined;
  private started: Promise<void> | undefined;
  private info: { phone: string | null; name: string | null; detail: string | null; connectedAt: number | null };

  constructor(
    options: BaileysConnectionOptions,
    private readonly deps: BaileysConnectionDeps,
    private readonly mode: ConnectionMode = { kind: 'connect' },
  ) {
    this.clock = deps.clock ?? realClock;
    this.random = deps.random ?? Math.random;
    this.settings = connectionSettings(options);
    this.logger = this.settings.logger;
    this.writes = new WriteQueue((error) => this.reportError(error));
    this.pauses = new StoredPauses({
      accountId: deps.accountId,
      auth: deps.auth,
      writes: this.writes,
      clock: this.clock,
      restrictionPauseMs: this.settings.restrictionPauseMs,
    });
    this.pauses.onChange(() => this.publishState());
    this.sent = new SentMessages(deps.messageText);
    const connection = this;
    this.sender = new Sender(
      {
        get state() {
          return connection.currentState;
        },
        ready: () => this.readySocket(),
        dropped: (error) => {
          if (this.socket.current && this.currentState === 'open') this.onClosed(this.socket.generation, error);
        },
      },
      {
        call: (work, what) => this.call(work, what),
        clock: this.clock,
        typing: this.settings.typing,
        phoneCache: this.settings.phoneCache,
        sent: this.sent,
        stopping: this.stopping.signal,
      },
    );
    this.directory = new DirectorySync(deps.directory, new LidMap(), (error) => this.reportError(error));
    this.socket = new SocketLifecycle(
      {
        options: {
          waWebSocketUrl: this.settings.waWebSocketUrl,
          connectTimeoutMs: this.settings.connectTimeoutMs,
          queryTimeoutMs: this.settings.callTimeoutMs,
          keepAliveIntervalMs: this.settings.keepAliveIntervalMs,
          logger: this.logger,
        },
        openTimeoutMs: this.settings.openTimeoutMs,
        makeSocket: deps.makeSocket ?? makeBaileysSocket,
        clock: this.clock,
        writes: this.writes,
        signals: { status: (update) => this.events.emit('status', update), pause: (signal) => this.pauses.apply(signal) },
        getMessage: (key) => this.sent.find(key),
        cachedGroupMetadata: async (jid) => this.directory.groupMetadata(jid),
      },
      {
        qr: (qr) => this.onQrCode(qr),
        batch: (events) => {
          if (this.mode.kind === 'connect') this.directory.handle(events);
        },
        open: (generation) => this.onOpen(generation),
        closed: (generation, error) => this.onClosed(generation, error),
      },
    );
    this.lifecycle = mode.kind === 'link' ? 'linking' : 'connecting';
    this.currentState = this.lifecycle as AccountState;
    this.info = { phone: deps.phone, name: null, detail: null, connectedAt: null };
    this.outcome = new Promise<LinkedIdentity>((resolve, reject) => {
      this.settleLink = { resolve, reject };
    });
    // Only a link has an outcome; nobody need listen to it otherwise.
    this.outcome.catch(() => undefined);
    this.events.setMaxListeners(0);
  }

  // ---- Transport ------------------------------------------------------------------------------------

  get state(): AccountState {
    return this.currentState;
  }

  get phone(): string | null {
    return this.info.phone;
  }

  get name(): string | null {
    return this.info.name;
  }

  isReady(): boolean {
    return this.currentState === 'open';
  }

  resolvePhone(digits: string): Promise<PhoneLookup> {
    return this.sender.resolvePhone(digits);
  }

  sendText(jid: string, text: string, messageId: string): Promise<void> {
    return this.sender.sendText(jid, text, messageId);
  }

  sendMedia(jid: string, media: OutgoingMedia, messageId: string): Promise<void> {
    return this.sender.sendMedia(jid, media, messageId);
  }

  onStatus(listener: (update: StatusUpdate) => void): () => void {
    return this.listen('status', listener);
  }

  onStateChange(listener: (state: AccountState) => void): () => void {
    return this.listen('state', listener);
  }

  /** Stops for good: timers cleared, socket closed. Queued messages stay queued. */
  async close(): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    await this.started?.catch(() => undefined);
    this.stop('stopped');
    this.settleLink?.reject(new Error('Linking was cancelled.'));
    await this.directory.flushed();
    await this.writes.idle();
    this.events.removeAllListeners();
  }

  // ---- beyond Transport: lifecycle, linking, account information -----------------------------------

  /** Loads the stored auth and opens the first socket. Call once. */
  start(): Promise<void> {
    this.started ??= this.begin().catch((error: unknown) => {
      this.reportError(error);
      if (this.mode.kind === 'link') {
        this.failLink(`Linking could not start: ${describe(error)}`);
        return;
      }
      // The store could not be read (locked, briefly unavailable): try again with the same backoff.
      this.attempts++;
      const wait = reconnectDelay(this.settings.backoff, this.attempts, this.random);
      this.setLifecycle('reconnecting', `Could not start the connection: ${describe(error)}. Next attempt in ${seconds(wait)}.`);
      this.reconnectTimer = this.clock.setTimeout(() => {
        this.started = undefined;
        void this.start();
      }, wait);
    });
    return this.started;
  }

  connectionInfo(): ConnectionInfo {
    return { state: this.currentState, ...this.info, pausedUntil: this.pauses.current()?.until ?? null };
  }

  onQr(listener: (qr: string) => void): () => void {
    return this.listen('qr', listener);
  }

  onPairingCode(listener: (code: string) => void): () => void {
    return this.listen('pairing-code', listener);
  }

  async cancel(): Promise<void> {
    await this.close();
  }

  /** Takes the account back after another client replaced it (440), or retries at once. */
  reconnect(): void {
    if (this.lifecycle !== 'replaced' && this.lifecycle !== 'reconnecting') return;
    this.clock.clearTimeout(this.reconnectTimer);
    this.attempts = 0;
    this.setLifecycle('connecting', null);
    this.openSocket();
  }

  /** Lifts every pause now (the owner knows better, e.g. after appealing a restriction). */
  resume(): void {
    this.pauses.clear();
  }

  /** Logs the device out on WhatsApp (unlink), then stops. The caller erases the stored auth. */
  async logout(): Promise<void> {
    const socket = this.socket.current;
    if (socket && this.lifecycle === 'open') {
      // Its 401 close is our own doing, not a logout to react to.
      this.socket.detach();
      await this.call(socket.logout('Unlinked'), 'the logout').catch((error: unknown) => this.reportError(error));
    }
    await this.close();
  }

  /** Resolves when directory writes so far are stored (tests, shutdown). */
  directoryFlushed(): Promise<void> {
    return this.directory.flushed();
  }

  // ---- socket lifecycle -----------------------------------------------------------------------------

  private async begin(): Promise<void> {
    this.pauses.restore(await this.deps.auth.readDeviceState(this.deps.accountId));
    const auth = await loadAuthState(
      { repository: this.deps.auth, accountId: this.deps.accountId, now: () => this.clock.now(), logger: this.logger, ...(this.deps.baileys ? { baileys: this.deps.baileys } : {}) },
      this.mode.kind === 'link',
    );
    if (this.isStopped()) return;
    if (!auth || (this.mode.kind === 'connect' && !isLinked(auth.state.creds))) {
      this.setLifecycle('logged_out', 'No phone is linked to this account: link it again; queued messages wait for it.');
      return;
    }
    this.auth = auth;
    for (const mapping of await readLidMappings(this.deps.auth, this.deps.accountId)) this.directory.lids.add(mapping.lid, mapping.pn);
    if (this.isStopped()) return;
    this.openSocket();
  }

  private openSocket(): void {
    if (this.isStopped() || !this.auth) return;
    this.socket.open(this.auth);
  }

  private onOpen(generation: number): void {
    if (generation !== this.socket.generation || !this.socket.current) return;
    this.socket.cancelOpenTimeout();
    this.attempts = 0;
    // Our own creds, which Baileys updates in place (its socket's `user` is a snapshot).
    const me = this.auth?.state.creds.me;
    if (me?.id) this.info.phone = phoneOf(me.id);
    if (me?.name && me.name !== '~') this.info.name = me.name;
    if (this.mode.kind === 'link') {
      this.completeLink();
      return;
    }
    this.info.connectedAt = this.clock.now();
    this.setLifecycle('open', null);
    const socket = this.socket.current;
    void updateDeviceState(this.deps.auth, this.deps.accountId, { loggedOutAt: null }).catch((error: unknown) => this.reportError(error));
    // The groups this account is in, for chat ids and names, and for cachedGroupMetadata.
    void this.call(socket.groupFetchAllParticipating(), 'the group list')
      .then((groups) => {
        if (generation === this.socket.generation) this.directory.addGroups(groups);
      })
      .catch((error: unknown) => this.reportError(error));
  }

  private onClosed(generation: number, error: unknown): void {
    if (generation !== this.socket.generation || this.isStopped()) return;
    this.socket.retire();
    const code = disconnectCode(error);
    const action = disconnectAction(code);
    if (this.mode.kind === 'link') {
      // 515 right after a scan or a pairing: the link succeeded and WhatsApp wants a fresh login.
      if (action === 'restart' && this.auth && isLinked(this.auth.state.creds)) this.completeLink();
      else this.failLink(linkFailure(code, this.mode.pairingPhone !== undefined));
      return;
    }
    const detail = describeDisconnect(action, code, error instanceof Error ? error.message : undefined);
    switch (action) {
      case 'restart':
        this.setLifecycle('connecting', detail);
        this.openSocket();
        return;
      case 'reconnect': {
        this.attempts++;
        const wait = reconnectDelay(this.settings.backoff, this.attempts, this.random);
        this.setLifecycle('reconnecting', `${detail} Next attempt in ${seconds(wait)}.`);
        this.reconnectTimer = this.clock.setTimeout(() => this.openSocket(), wait);
        return;
      }
      case 'logged_out':
        this.loggedOut(detail);
        return;
      case 'replaced':
        this.setLifecycle('replaced', detail);
        return;
    }
  }

  /** The link is gone: its keys are useless, and a restart must not try to log in with them. */
  private loggedOut(detail: string): void {
    this.setLifecycle('logged_out', detail);
    const { auth, accountId } = this.deps;
    const loggedOutAt = this.clock.now();
    this.writes.add(() => updateDeviceState(auth, accountId, { loggedOutAt }, { eraseAuth: true }));
  }

  private stop(lifecycle: 'stopped'): void {
    this.stopping.abort();
    this.clock.clearTimeout(this.reconnectTimer);
    this.pauses.stop();
    this.socket.retire();
    this.lifecycle = lifecycle;
  }

  private isStopped(): boolean {
    return this.lifecycle === 'stopped';
  }

  // ---- linking --------------------------------------------------------------------------------------

  private onQrCode(qr: string): void {
    if (this.mode.kind !== 'link') return;
    // The socket is talking to WhatsApp; a QR lives until Baileys runs out of them (408).
    this.socket.cancelOpenTimeout();
    const phone = this.mode.pairingPhone;
    if (phone === undefined) {
      this.events.emit('qr', qr);
      return;
    }
    // A pairing code can be asked for once the socket is talking to WhatsApp, which the first QR shows.
    const socket = this.socket.current;
    if (this.pairingRequested || !socket) return;
    this.pairingRequested = true;
    void this.call(socket.requestPairingCode(phone), 'the pairing code request').then(
      (code) => this.events.emit('pairing-code', code),
      (error: unknown) => this.failLink(`WhatsApp did not give a pairing code: ${describe(error)}`),
    );
  }

  private completeLink(): void {
    const me = this.auth?.state.creds.me;
    if (!me?.id) {
      this.failLink('WhatsApp opened a session without linking a phone: start linking again.');
      return;
    }
    const settle = this.settleLink;
    this.settleLink = undefined;
    if (!settle) return;
    const identity: LinkedIdentity = { phone: phoneOf(me.id), name: me.name && me.name !== '~' ? me.name : null };
    // The creds that prove the link must be stored before anyone reconnects with them.
    void this.writes.idle().then(() => {
      this.stop('stopped');
      settle.resolve(identity);
    });
  }

  private failLink(reason: string): void {
    const settle = this.settleLink;
    this.settleLink = undefined;
    this.stop('stopped');
    const { auth, accountId } = this.deps;
    this.writes.add(() => auth.clear(accountId));
    void this.writes.idle().then(() => settle?.reject(new Error(reason)));
  }

  // ---- sending --------------------------------------------------------------------------------------

  private readySocket(): BaileysSocket {
    const socket = this.socket.current;
    if (this.currentState !== 'open' || !socket) {
      throw new TransportError('unavailable', this.info.detail ?? `The WhatsApp account is ${this.currentState.replace('_', ' ')}.`);
    }
    return socket;
  }

  /** Every call on the socket ends in time: Baileys' own can hang for a minute. */
  private call<T>(work: Promise<T>, what: string): Promise<T> {
    return withTimeout(work, this.settings.callTimeoutMs, `WhatsApp (${what})`, this.clock);
  }

  // ---- state ----------------------------------------------------------------------------------------

  private setLifecycle(lifecycle: Exclude<Lifecycle, 'stopped'>, detail: string | null): void {
    if (this.isStopped()) return;
    this.lifecycle = lifecycle;
    this.info.detail = detail;
    this.publishState();
  }

  /** The state the core sees: a pause shows only while the socket is open. */
  private publishState(): void {
    if (this.isStopped()) return;
    const pause = this.lifecycle === 'open' ? this.pauses.current() : null;
    const state: AccountState = pause ? 'paused' : (this.lifecycle as AccountState);
    if (pause) this.info.detail = pause.reason;
    else if (this.lifecycle === 'open') this.info.detail = null;
    if (state === this.currentState) return;
    this.currentState = state;
    this.events.emit('state', state);
  }

  // ---- plumbing -------------------------------------------------------------------------------------

  private listen<T>(event: string, listener: (value: T) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  private reportError(error: unknown): void {
    (this.deps.onError ?? ((e) => process.emitWarning(`WhatsApp connection: ${describe(e)}`)))(error);
  }
}

function phoneOf(jid: string): string {
  return jid.split('@')[0]!.split(':')[0]!;
}

function linkFailure(code: number | undefined, pairing: boolean): string {
  if (code === 408) {
    return pairing
      ? 'The pairing code was not entered in time: start linking again.'
      : 'No one scanned the QR code in time: start linking again.';
  }
  if (code === 401 || code === 403) return `WhatsApp refused the link (${code}): start linking again.`;
  return `Linking stopped: the connection to WhatsApp closed${code === undefined ? '' : ` (${code})`}; start linking again.`;
}
