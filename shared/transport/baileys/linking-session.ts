import type { AccountState } from '../../model';
import { TransportError } from '../types';
import { isLinked, type StoredAuth } from './auth-state';
import { disconnectCode } from './baileys-module';
import { disconnectAction } from './disconnect-policy';
import type { LinkedIdentity } from '../linking';
import { accountName, phoneOf, type Session, type SessionContext } from './session-context';
import type { SocketLifecycle } from './socket-lifecycle';
import { describe } from './words';

/**
 * Links a new phone: new creds, a socket that shows QR codes (or asks for a pairing code for
 * `pairingPhone`) until the phone confirms, then a stop with the creds that prove the link stored.
 * The state stays `linking` throughout; nothing is sent over this socket.
 */
export class LinkingSession implements Session {
  readonly outcome: Promise<LinkedIdentity>;
  readonly state: AccountState = 'linking';
  private readonly socket: SocketLifecycle;
  private settle: { resolve: (identity: LinkedIdentity) => void; reject: (error: Error) => void } | undefined;
  private auth: StoredAuth | undefined;
  private started: Promise<void> | undefined;
  private stopped = false;
  private pairingRequested = false;

  constructor(
    private readonly context: SessionContext,
    private readonly pairingPhone: string | undefined,
  ) {
    this.socket = context.socket({
      qr: (qr) => this.onQr(qr),
      batch: () => undefined,
      open: (generation) => this.onOpen(generation),
      closed: (generation, error) => this.onClosed(generation, error),
    });
    this.outcome = new Promise<LinkedIdentity>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  start(): Promise<void> {
    this.started ??= this.begin().catch((error: unknown) => {
      this.context.reportError(error);
      this.fail(`Linking could not start: ${describe(error)}`);
    });
    return this.started;
  }

  ready(): never {
    throw new TransportError('unavailable', 'The WhatsApp account is linking.');
  }

  /** Never called: nothing is sent while linking. */
  dropped(): void {}

  /** Nothing to take back: a link that fails is started again. */
  reconnect(): void {}

  async logout(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    await this.started?.catch(() => undefined);
    this.stop();
    this.settle?.reject(new Error('Linking was cancelled.'));
    await this.context.drain();
  }

  private async begin(): Promise<void> {
    const auth = await this.context.loadAuth(true);
    if (this.stopped) return;
    this.auth = auth;
    await this.context.loadLidMap();
    if (this.stopped || !this.auth) return;
    this.socket.open(this.auth);
  }

  private onQr(qr: string): void {
    // The socket is talking to WhatsApp; a QR lives until Baileys runs out of them (408).
    this.socket.cancelOpenTimeout();
    const phone = this.pairingPhone;
    if (phone === undefined) {
      this.context.emit('qr', qr);
      return;
    }
    // A pairing code can be asked for once the socket is talking to WhatsApp, which the first QR shows.
    const socket = this.socket.current;
    if (this.pairingRequested || !socket) return;
    this.pairingRequested = true;
    void this.context.call(socket.requestPairingCode(phone), 'the pairing code request').then(
      (code) => this.context.emit('pairing-code', code),
      (error: unknown) => this.fail(`WhatsApp did not give a pairing code: ${describe(error)}`),
    );
  }

  private onOpen(generation: number): void {
    if (generation !== this.socket.generation || !this.socket.current) return;
    this.socket.cancelOpenTimeout();
    this.context.learnIdentity(this.auth?.state.creds);
    this.complete();
  }

  private onClosed(generation: number, error: unknown): void {
    if (generation !== this.socket.generation || this.stopped) return;
    this.socket.retire();
    const code = disconnectCode(error);
    // 515 right after a scan or a pairing: the link succeeded and WhatsApp wants a fresh login.
    if (disconnectAction(code) === 'restart' && this.auth && isLinked(this.auth.state.creds)) this.complete();
    else this.fail(linkFailure(code, this.pairingPhone !== undefined));
  }

  private complete(): void {
    const me = this.auth?.state.creds.me;
    if (!me?.id) {
      this.fail('WhatsApp opened a session without linking a phone: start linking again.');
      return;
    }
    const settle = this.settle;
    this.settle = undefined;
    if (!settle) return;
    const identity: LinkedIdentity = { phone: phoneOf(me.id), name: accountName(me) };
    // The creds that prove the link must be stored before anyone reconnects with them.
    void this.context.writes.idle().then(() => {
      this.stop();
      settle.resolve(identity);
    });
  }

  private fail(reason: string): void {
    const settle = this.settle;
    this.settle = undefined;
    this.stop();
    const { auth, accountId } = this.context.deps;
    this.context.writes.add(() => auth.clear(accountId));
    void this.context.writes.idle().then(() => settle?.reject(new Error(reason)));
  }

  private stop(): void {
    this.context.stop();
    this.socket.retire();
    this.stopped = true;
  }
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
