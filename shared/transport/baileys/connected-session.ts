import type { AccountState } from '../../model';
import type { TimerHandle } from '../../time/clock';
import { TransportError } from '../types';
import { isLinked, type StoredAuth } from './auth-state';
import { disconnectCode, type BaileysSocket } from './baileys-module';
import { updateDeviceState } from './device-state';
import { describeDisconnect, disconnectAction, reconnectDelay } from './disconnect-policy';
import type { LinkedIdentity } from '../linking';
import type { Session, SessionContext } from './session-context';
import type { SocketLifecycle } from './socket-lifecycle';
import { describe, seconds } from './words';

/** Where the socket is, apart from pauses (a pause only shows while the socket is open). */
type Lifecycle = 'connecting' | 'open' | 'reconnecting' | 'logged_out' | 'replaced' | 'stopped';

/**
 * Keeps a linked account connected for months: a socket with the stored creds, a new one at once or
 * after a backoff when it closes, a stop when WhatsApp logs the device out or another client takes
 * over; and the state the core sees, where a pause shows while the socket is open.
 */
export class ConnectedSession implements Session {
  /** A linked account links nothing: the outcome only rejects, when the connection closes. */
  readonly outcome: Promise<LinkedIdentity>;
  private readonly cancelOutcome: (error: Error) => void;
  private readonly socket: SocketLifecycle;
  private lifecycle: Lifecycle = 'connecting';
  private published: AccountState = 'connecting';
  private auth: StoredAuth | undefined;
  private started: Promise<void> | undefined;
  private attempts = 0;
  private reconnectTimer: TimerHandle | undefined;

  constructor(private readonly context: SessionContext) {
    this.socket = context.socket({
      // A linked account's socket logs in with its creds; a QR means nothing here.
      qr: () => undefined,
      batch: (events) => context.directory.handle(events),
      open: (generation) => this.onOpen(generation),
      closed: (generation, error) => this.onClosed(generation, error),
    });
    context.pauses.onChange(() => this.publishState());
    let cancel!: (error: Error) => void;
    this.outcome = new Promise<LinkedIdentity>((_resolve, reject) => {
      cancel = reject;
    });
    this.cancelOutcome = cancel;
  }

  get state(): AccountState {
    return this.published;
  }

  start(): Promise<void> {
    this.started ??= this.begin().catch((error: unknown) => {
      this.context.reportError(error);
      // The store could not be read (locked, briefly unavailable): try again with the same backoff.
      this.attempts++;
      const wait = this.backoff();
      this.setLifecycle('reconnecting', `Could not start the connection: ${describe(error)}. Next attempt in ${seconds(wait)}.`);
      this.reconnectTimer = this.context.clock.setTimeout(() => {
        this.started = undefined;
        void this.start();
      }, wait);
    });
    return this.started;
  }

  ready(): BaileysSocket {
    const socket = this.socket.current;
    if (this.published !== 'open' || !socket) {
      throw new TransportError('unavailable', this.context.facts.detail ?? `The WhatsApp account is ${this.published.replace('_', ' ')}.`);
    }
    return socket;
  }

  dropped(error: unknown): void {
    if (this.socket.current && this.published === 'open') this.onClosed(this.socket.generation, error);
  }

  reconnect(): void {
    if (this.lifecycle !== 'replaced' && this.lifecycle !== 'reconnecting') return;
    this.context.clock.clearTimeout(this.reconnectTimer);
    this.attempts = 0;
    this.setLifecycle('connecting', null);
    this.openSocket();
  }

  /** The caller erases the stored auth. */
  async logout(): Promise<void> {
    const socket = this.socket.current;
    if (socket && this.lifecycle === 'open') {
      // Its 401 close is our own doing, not a logout to react to.
      this.socket.detach();
      await this.context.call(socket.logout('Unlinked'), 'the logout').catch((error: unknown) => this.context.reportError(error));
    }
    await this.close();
  }

  async close(): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    await this.started?.catch(() => undefined);
    this.stop();
    this.cancelOutcome(new Error('Linking was cancelled.'));
    await this.context.drain();
  }

  private async begin(): Promise<void> {
    const auth = await this.context.loadAuth(false);
    if (this.isStopped()) return;
    if (!auth || !isLinked(auth.state.creds)) {
      this.setLifecycle('logged_out', 'No phone is linked to this account: link it again; queued messages wait for it.');
      return;
    }
    this.auth = auth;
    await this.context.loadLidMap();
    if (this.isStopped()) return;
    this.openSocket();
  }

  private openSocket(): void {
    if (this.isStopped() || !this.auth) return;
    this.socket.open(this.auth);
  }

  private onOpen(generation: number): void {
    const { context } = this;
    if (generation !== this.socket.generation || !this.socket.current) return;
    this.socket.cancelOpenTimeout();
    this.attempts = 0;
    context.learnIdentity(this.auth?.state.creds);
    context.facts.connectedAt = context.clock.now();
    this.setLifecycle('open', null);
    const socket = this.socket.current;
    const { auth, accountId } = context.deps;
    void updateDeviceState(auth, accountId, { loggedOutAt: null }).catch((error: unknown) => context.reportError(error));
    // The groups this account is in, for chat ids and names, and for cachedGroupMetadata.
    void context
      .call(socket.groupFetchAllParticipating(), 'the group list')
      .then((groups) => {
        if (generation === this.socket.generation) context.directory.addGroups(groups);
      })
      .catch((error: unknown) => context.reportError(error));
  }

  private onClosed(generation: number, error: unknown): void {
    if (generation !== this.socket.generation || this.isStopped()) return;
    this.socket.retire();
    const code = disconnectCode(error);
    const action = disconnectAction(code);
    const detail = describeDisconnect(action, code, error instanceof Error ? error.message : undefined);
    this.context.emit('disconnect', code ?? null);
    switch (action) {
      case 'restart':
        this.setLifecycle('connecting', detail);
        this.openSocket();
        return;
      case 'reconnect': {
        this.attempts++;
        const wait = this.backoff();
        this.setLifecycle('reconnecting', `${detail} Next attempt in ${seconds(wait)}.`);
        this.reconnectTimer = this.context.clock.setTimeout(() => this.openSocket(), wait);
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
    const { auth, accountId } = this.context.deps;
    const loggedOutAt = this.context.clock.now();
    this.context.writes.add(() => updateDeviceState(auth, accountId, { loggedOutAt }, { eraseAuth: true }));
  }

  private backoff(): number {
    return reconnectDelay(this.context.settings.backoff, this.attempts, this.context.random);
  }

  private stop(): void {
    this.context.stop();
    this.context.clock.clearTimeout(this.reconnectTimer);
    this.socket.retire();
    this.lifecycle = 'stopped';
  }

  private isStopped(): boolean {
    return this.lifecycle === 'stopped';
  }

  private setLifecycle(lifecycle: Exclude<Lifecycle, 'stopped'>, detail: string | null): void {
    if (this.isStopped()) return;
    this.lifecycle = lifecycle;
    this.context.facts.detail = detail;
    this.publishState();
  }

  /** The state the core sees: a pause shows only while the socket is open. */
  private publishState(): void {
    if (this.isStopped()) return;
    const { context } = this;
    const pause = this.lifecycle === 'open' ? context.pauses.current() : null;
    const state: AccountState = pause ? 'paused' : (this.lifecycle as AccountState);
    if (pause) context.facts.detail = pause.reason;
    else if (this.lifecycle === 'open') context.facts.detail = null;
    if (state === this.published) return;
    this.published = state;
    context.emit('state', state);
  }
}
