import { detectMediaType, downloadAttachment } from '../attachments';
import type { DownloadedFile, DownloadPolicy } from '../attachments/types';
import { normalizePhone } from '../contract/phone';
import { AccountDispatcher, type DispatchOptions } from '../dispatch/dispatcher';
import { DEFAULT_LOGGED_OUT_TTL_MS, LoggedOutExpiry } from '../dispatch/logged-out-expiry';
import type { Account, AccountState, MessageChange } from '../model';
import type { ChatDirectory } from '../recipients/directory';
import type { WorkspaceStore } from '../store/types';
import { LinkHandle, type LinkedIdentity } from '../transport/linking';
import { realClock, type Clock } from '../time/clock';
import type { DriverContext, DriverRegistry, LinkAttempt, TransportDriver } from '../transport/driver';
import { TransportError, type IncomingMessage, type MessageReference, type Transport } from '../transport/types';
import { OwnershipKeeper } from './ownership-keeper';
import { referenceOf } from '../inbound/stored-parts';

export interface LinkOptions {
  /** Link by pairing code for this phone (international format) instead of by QR. */
  readonly pairingPhone?: string;
}

/** An account and its connection, as engines show it. */
export interface AccountConnection {
  readonly account: Account;
  /** Null when this workspace does not connect the account (opened with `connectAccounts: false`). */
  readonly state: AccountState | null;
  /** Why it is paused, logged out, replaced or reconnecting, in one sentence. */
  readonly detail: string | null;
  readonly pausedUntil: number | null;
  /** Why sending is paused, in one sentence, while a pause holds (also while reconnecting); else null. */
  readonly pauseReason: string | null;
}

export interface AccountRuntimeDeps {
  readonly store: WorkspaceStore;
  readonly directory: ChatDirectory;
  readonly dispatch: DispatchOptions;
  readonly downloadPolicy: DownloadPolicy;
  /** How each account kind is opened (and linked, where it can be). */
  readonly drivers: DriverRegistry;
  /** Opens non-dry-run accounts instead of their driver (tests of the core use fakes). */
  readonly openTransport: ((account: Account) => Transport) | undefined;
  /** How long queued messages wait for a logged-out account to be linked again. */
  readonly loggedOutTtlMs: number | undefined;
  /** The timers of the logged-out expiry (tests give a fake clock). */
  readonly clock: Clock | undefined;
  /** False when this process must not open sockets (a command-line link beside a running engine). */
  readonly connectAccounts: boolean;
  /** This workspace's id as an account owner (see OwnershipRepository); unique per open workspace. */
  readonly owner: string;
  readonly now: () => number;
  readonly random: () => number;
  readonly randomBytes: (size: number) => Buffer;
  readonly emitMessage: (change: MessageChange) => void;
  readonly emitAccount: (connection: AccountConnection) => void;
  /** The account list in the store changed (added, updated, removed): other processes read it again. */
  readonly accountsChanged: () => void;
  /** This workspace now holds the account and opened its connection: other processes learn its state. */
  readonly accountTaken: (connection: AccountConnection) => void;
  /** A send of an account this workspace holds starts, `gapMs` after its previous one (see DispatchDeps.onSendStart). */
  readonly sendStarted?: (accountId: string, gapMs: number | null) => void;
  /** The connection of an account this workspace holds closed on its own, with the service's code (see Transport.onDisconnect). */
  readonly disconnected?: (accountId: string, code: number | null) => void;
  /** A new message reached an account this workspace holds (see Transport.onIncoming). */
  readonly received: (accountId: string, message: IncomingMessage) => void;
  readonly reportError: (error: unknown) => void;
}

/**
 * A workspace's accounts at run time: each account's transport (dry-run, Baileys, or a test's) and
 * dispatcher, linking and unlinking, connection states written back to the store, and the expiry of
 * queues whose account was logged out.
 */
export class AccountRuntime {
  private readonly dispatchers = new Map<string, AccountDispatcher>();
  /** Dry-run accounts being added now, by phone. */
  /** Accounts being added from settings, by id (see addConfigured). */
  private readonly adding = new Map<string, Promise<Account>>();
  private readonly transports = new Map<string, Transport>();
  private readonly expiry: LoggedOutExpiry;
  private readonly ownership: OwnershipKeeper;
  private readonly links = new Set<LinkAttempt>();
  /** Per connected account: stops listening to its transport's state and messages. */
  private readonly unwatchState = new Map<string, () => void>();
  private readonly now: () => number;
  private accountWrites: Promise<void> = Promise.resolve();
  private accountList: Account[] = [];
  private closed = false;

  constructor(private readonly deps: AccountRuntimeDeps) {
    this.now = deps.now;
    this.ownership = new OwnershipKeeper({
      ownership: deps.store.ownership,
      owner: deps.owner,
      now: deps.now,
      lost: (accountId) => void this.ownershipLost(accountId),
      gained: (accountId) => {
        const account = this.accountList.find((candidate) => candidate.id === accountId);
        if (account && !this.closed) void this.connectHeld(account).catch((error: unknown) => this.connectFailed(account.id, error));
      },
      reportError: deps.reportError,
    });
    this.expiry = new LoggedOutExpiry({
      outbox: deps.store.outbox,
      ttlMs: deps.loggedOutTtlMs ?? DEFAULT_LOGGED_OUT_TTL_MS,
      refundDelayMs: deps.dispatch.refundDelayMs,
      now: deps.now,
      timers: deps.clock ?? realClock,
      onFailed: (messages, reason) => {
        const at = deps.now();
        for (const message of messages) {
          deps.emitMessage({ messageId: message.id, requestId: message.requestId, accountId: message.accountId, status: 'failed', reason, at, cause: 'logged_out' });
        }
      },
      onError: (error) => deps.reportError(error),
    });
  }

  /** Loads the accounts and, unless told not to, connects each one. */
  async start(): Promise<void> {
    this.accountList = await this.deps.store.accounts.list();
    if (this.deps.connectAccounts) await Promise.all(this.accountList.map((account) => this.connect(account)));
  }

  /**
   * Reads the account list again (another process added, relinked or removed one): a new account is
   * connected here if this workspace connects accounts and can take it; a removed one is let go.
   */
  async refreshAccounts(): Promise<void> {
    this.accountList = await this.deps.store.accounts.list();
    if (!this.deps.connectAccounts || this.closed) return;
    const known = new Set(this.accountList.map((account) => account.id));
    for (const id of [...this.dispatchers.keys()]) if (!known.has(id)) await this.disconnect(id);
    for (const account of this.accountList) {
      if (!this.dispatchers.has(account.id) && !this.ownership.holds(account.id)) await this.connect(account);
    }
  }


  get list(): readonly Account[] {
    return this.accountList;
  }

  /** A message was queued for the account: its dispatcher may send, and a logged-out queue is watched. */
  queued(accountId: string, now: number): void {
    this.dispatchers.get(accountId)?.wake();
    this.expiry.queued(accountId, now);
  }

  /** A dry-run account records messages instead of sending them (see DryRunTransport). */
  addDryRun(phone: string, name: string | null = null): Promise<Account> {
    return this.addConfigured((now) => ({ id: `dry-run-${phone}`, kind: 'dry-run', phone, name, createdAt: now, connectedAt: now, active: true }));
  }

  /**
   * The account of a Cloud API business number the engine's credentials name. Its phone and name come
   * from the number's check, once it answers (see accountStateChanged).
   */
  addCloudApi(accountId: string): Promise<Account> {
    return this.addConfigured((now) => ({ id: accountId, kind: 'cloud-api', phone: null, name: null, createdAt: now, connectedAt: null, active: true }));
  }

  /**
   * Cloud API accounts whose number the settings no longer name: kept with their history, but no longer
   * chosen by default (their messages would wait for credentials that are gone). Named again, they are active again.
   */
  async retireCloudApi(configured: ReadonlySet<string>): Promise<void> {
    for (const account of this.accountList) {
      if (account.kind === 'cloud-api' && account.active && !configured.has(account.id)) await this.updateAccount({ ...account, active: false });
    }
  }

  /** An account that settings create rather than a link: kept if it exists, else added and connected. */
  private addConfigured(make: (now: number) => Account): Promise<Account> {
    const made = make(this.now());
    // Two callers adding the same account at once (two n8n calls opening one workspace) get one account:
    // a second connect would leave the first dispatcher running, unowned, beside the second.
    const pending = this.adding.get(made.id);
    if (pending) return pending;
    const adding = this.putConfigured(made).finally(() => this.adding.delete(made.id));
    this.adding.set(made.id, adding);
    return adding;
  }

  private async putConfigured(made: Account): Promise<Account> {
    const existing = this.accountList.find((account) => account.id === made.id);
    if (existing && this.dispatchers.has(existing.id) && (made.kind !== 'cloud-api' || existing.active)) return existing;
    // A Cloud API account keeps what its checks learned (phone, name, creation); a dry run is written as configured.
    const account = existing && made.kind === 'cloud-api' ? (existing.active ? existing : { ...existing, active: true }) : made;
    if (account !== existing) {
      await this.deps.store.accounts.put(account);
      this.accountList = await this.deps.store.accounts.list();
      this.deps.accountsChanged();
    }
    // A dry run connects even where accounts are not (it holds no socket); a real account only where they are.
    if (account.kind === 'dry-run' || this.deps.connectAccounts) await this.connect(account);
    return account;
  }

  /** Opens the account's connection again, where it is open here (its settings changed). */
  async reopen(id: string): Promise<void> {
    if (!this.transports.has(id)) return;
    await this.disconnect(id);
    const account = this.accountList.find((candidate) => candidate.id === id);
    if (account && this.deps.connectAccounts && !this.closed) await this.connect(account);
  }

  /** Removes the account; its queued messages fail with `reason` and are refunded (nothing is left to send them). */
  async remove(id: string, reason = 'The account was removed before this message was sent'): Promise<void> {
    await this.disconnect(id);
    this.expiry.unwatch(id);
    await this.deps.store.accounts.remove(id);
    this.accountList = await this.deps.store.accounts.list();
    this.deps.accountsChanged();
    const now = this.now();
    const { failed } = await this.deps.store.outbox.expireQueued(id, Number.MAX_SAFE_INTEGER, reason, now, now + this.deps.dispatch.refundDelayMs);
    for (const message of failed) this.deps.emitMessage({ messageId: message.id, requestId: message.requestId, accountId: id, status: 'failed', reason, at: now, cause: 'account_removed' });
  }

  /**
   * Links a phone: by QR (the handle emits each QR as text and PNG data URL as Baileys rotates it) or
   * by pairing code for `pairingPhone`. `handle.linked` resolves with the account once the phone
   * confirms; linking the phone of an existing account (a relink) keeps that account and its queue.
   */
  startLink(options: LinkOptions = {}): LinkHandle {
    let pairingPhone: string | undefined;
    if (options.pairingPhone !== undefined) {
      const phone = normalizePhone(options.pairingPhone);
      if (!phone.ok) throw new Error(`The pairing phone "${options.pairingPhone}" is not a phone number in international format, e.g. +14151231234.`);
      pairingPhone = phone.digits;
    }
    const driver = [...this.deps.drivers.values()].find((candidate) => candidate.link !== undefined);
    if (!driver?.link) throw new Error('No transport of this workspace can link a phone.');
    const tempId = `link-${this.deps.randomBytes(8).toString('hex')}`;
    const attempt = driver.link({ tempId, ...(pairingPhone ? { pairingPhone } : {}) }, this.driverContext());
    this.links.add(attempt);
    const handle = new LinkHandle(attempt, (identity) => this.completeLink(driver, tempId, identity));
    handle.linked
      // A failed link leaves nothing behind; if even that erase fails, the log says so.
      .catch(() => this.deps.store.auth.clear(tempId).catch((error: unknown) => this.deps.reportError(error)))
      .finally(() => this.links.delete(attempt));
    void attempt.start();
    return handle;
  }

  /** Logs the device out on WhatsApp, erases its auth state and removes the account; its queued messages fail and are refunded. */
  async unlink(accountId: string): Promise<void> {
    const transport = this.transports.get(accountId);
    // The logout closes the socket with 401: that is no news to record, the account is going away.
    this.unwatchState.get(accountId)?.();
    this.unwatchState.delete(accountId);
    await transport?.logout?.();
    await this.accountWrites;
    await this.remove(accountId, 'The WhatsApp account was unlinked before this message was sent');
    await this.deps.store.auth.clear(accountId);
  }

  /** Every account with its connection state. */
  connections(): AccountConnection[] {
    return this.list.map((account) => this.connection(account.id)!);
  }

  connection(accountId: string): AccountConnection | undefined {
    const account = this.list.find((candidate) => candidate.id === accountId);
    if (!account) return undefined;
    const transport = this.transports.get(accountId);
    const info = transport?.connectionInfo?.();
    return {
      account,
      state: transport?.state ?? null,
      detail: info?.detail ?? null,
      pausedUntil: info?.pausedUntil ?? null,
      pauseReason: info?.pauseReason ?? null,
    };
  }

  /** Lifts a pause (restriction, message cap) early; false when the account has no such connection. */
  resume(accountId: string): boolean {
    const transport = this.transports.get(accountId);
    if (!transport?.resume) return false;
    transport.resume();
    return true;
  }

  /** Reconnects now: after another client replaced this one (440), or to skip a backoff. */
  reconnect(accountId: string): boolean {
    const transport = this.transports.get(accountId);
    if (!transport?.reconnect) return false;
    transport.reconnect();
    return true;
  }

  /**
   * Marks received messages read through the account's connection: `elsewhere` when this workspace does
   * not hold the account (its owner, another process, must do it), `unsupported` when its transport cannot.
   */
  async markRead(accountId: string, messages: readonly MessageReference[]): Promise<'marked' | 'unsupported' | 'elsewhere'> {
    const transport = this.transports.get(accountId);
    if (!transport) return 'elsewhere';
    if (!transport.markRead) return 'unsupported';
    await transport.markRead(messages);
    return 'marked';
  }

  /** A received message's media bytes through the account's connection; undefined when not held here. */
  async downloadMedia(accountId: string, raw: unknown): Promise<Buffer | undefined> {
    const transport = this.transports.get(accountId);
    if (transport) return transport.downloadMedia?.(raw);
    // Held elsewhere: a kind whose connections hold nothing opens one here for the download alone.
    const account = this.accountList.find((candidate) => candidate.id === accountId);
    if (!account || !this.deps.drivers.get(account.kind)?.holdFree) return undefined;
    const passing = this.open(account);
    try {
      return await passing.downloadMedia?.(raw);
    } finally {
      await passing.close();
    }
  }

  private async completeLink(driver: TransportDriver, tempId: string, identity: LinkedIdentity): Promise<Account> {
    const now = this.now();
    const existing = (await this.deps.store.accounts.list()).find((account) => account.phone === identity.phone);
    const id = existing?.id ?? `wa-${identity.phone}`;
    if (existing) await this.disconnect(existing.id);
    await this.deps.store.auth.move(tempId, id);
    const account: Account = {
      id,
      kind: driver.kind,
      phone: identity.phone,
      name: identity.name ?? existing?.name ?? null,
      createdAt: existing?.createdAt ?? now,
      connectedAt: now,
      active: true,
    };
    this.expiry.unwatch(id);
    await this.updateAccount(account);
    if (this.deps.connectAccounts && !this.closed) await this.connect(account);
    return account;
  }

  /**
   * Opens the account's connection and sending, once this workspace holds the account: messages a
   * crash left in flight go back to the queue first, with their ids. An account held elsewhere stays
   * unconnected here.
   */
  private async connect(account: Account): Promise<void> {
    if (!(await this.ownership.acquire(account.id))) {
      // Held by another process: taken over when that one lets go or stops renewing.
      this.ownership.want(account.id);
      return;
    }
    await this.connectHeld(account).catch((error: unknown) => this.connectFailed(account.id, error));
  }

  /**
   * Holding the account but unable to open it (the store failed while recovering its messages in flight):
   * let it go and try again on the next renewal, rather than hold it with nothing sending.
   */
  private async connectFailed(accountId: string, error: unknown): Promise<void> {
    this.deps.reportError(error);
    await this.disconnect(accountId).catch((failure: unknown) => this.deps.reportError(failure));
    if (!this.closed && this.deps.connectAccounts) this.ownership.want(accountId);
  }

  private async connectHeld(account: Account): Promise<void> {
    await this.deps.store.outbox.recoverInFlight(this.now(), account.id, this.ownership.owner);
    if (this.closed || this.dispatchers.has(account.id) || !this.accountList.some((candidate) => candidate.id === account.id)) {
      if (!this.dispatchers.has(account.id)) await this.ownership.release(account.id);
      return;
    }
    const transport = this.open(account);
    const dispatcher = new AccountDispatcher(account.id, this.dispatchOptionsOf(account), {
      outbox: this.deps.store.outbox,
      transport,
      linkedAt: account.createdAt,
      owner: this.ownership.owner,
      holdsSafely: () => this.ownership.holdsSafely(account.id),
      quoted: async (messageId, accountId) => {
        const stored = await this.deps.store.inbound.find(messageId, accountId);
        return stored && referenceOf(stored);
      },
      download: (url, fileName) => downloadAttachment(url, fileName, this.deps.downloadPolicy),
      loadAttachment: (messageId, fileName) => this.loadAttachment(messageId, fileName),
      now: this.now,
      random: this.deps.random,
      onChange: (change) => this.deps.emitMessage(change),
      onSendStart: (gapMs) => this.deps.sendStarted?.(account.id, gapMs),
      onError: (error) => this.deps.reportError(error),
    });
    this.transports.set(account.id, transport);
    this.dispatchers.set(account.id, dispatcher);
    const unwatch = [
      transport.onStateChange((state) => this.accountStateChanged(account.id, transport, state)),
      transport.onIncoming?.((message) => this.deps.received(account.id, message)) ?? (() => undefined),
      transport.onDisconnect?.((code) => this.deps.disconnected?.(account.id, code)) ?? (() => undefined),
    ];
    this.unwatchState.set(account.id, () => unwatch.forEach((off) => off()));
    void transport.start?.();
    dispatcher.wake();
    this.deps.accountTaken(this.connection(account.id)!);
  }

  /** The workspace's pacing, or the account kind's own profile (no gaps to look human, no warm-up). */
  private dispatchOptionsOf(account: Account): DispatchOptions {
    const profile = this.deps.drivers.get(account.kind)?.pacing;
    if (!profile) return this.deps.dispatch;
    const { warmup: _warmup, ...rest } = this.deps.dispatch;
    return { ...rest, gap: profile.gap };
  }

  private open(account: Account): Transport {
    const override = account.kind === 'dry-run' ? undefined : this.deps.openTransport?.(account);
    if (override) return override;
    const driver = this.deps.drivers.get(account.kind);
    if (!driver) throw new Error(`No transport is registered for accounts of kind "${account.kind}".`);
    return driver.open(account, this.driverContext());
  }

  private driverContext(): DriverContext {
    return {
      store: this.deps.store,
      directory: this.deps.directory,
      now: this.now,
      random: this.deps.random,
      reportError: this.deps.reportError,
    };
  }

  /** Closes an account's sending and connection, keeping the account and its queue. */
  private async disconnect(id: string): Promise<void> {
    this.unwatchState.get(id)?.();
    this.unwatchState.delete(id);
    await this.dispatchers.get(id)?.close();
    await this.transports.get(id)?.close();
    this.dispatchers.delete(id);
    this.transports.delete(id);
    await this.ownership.release(id);
  }

  /** Another owner may take the account: stop its sending and close its connection now. */
  private async ownershipLost(accountId: string): Promise<void> {
    await this.disconnect(accountId).catch((error: unknown) => this.deps.reportError(error));
    // Taken again once the store answers and no other process holds it.
    if (!this.closed && this.deps.connectAccounts) this.ownership.want(accountId);
    const connection = this.connection(accountId);
    if (connection && !this.closed) this.deps.emitAccount(connection);
  }

  /** Persists what a connection learns: phone and connect time when it opens, inactive when logged out. */
  private accountStateChanged(accountId: string, transport: Transport, state: AccountState): void {
    this.accountWrites = this.accountWrites
      .then(async () => {
        const account = this.list.find((candidate) => candidate.id === accountId);
        if (!account || this.closed) return;
        if (state === 'open') {
          this.expiry.unwatch(accountId);
          const name = transport.name ?? account.name;
          await this.updateAccount({ ...account, phone: transport.phone ?? account.phone, name, connectedAt: this.now(), active: true });
        } else if (state === 'logged_out') {
          if (account.active) await this.updateAccount({ ...account, active: false });
          const device = await this.deps.store.auth.readDeviceState(accountId);
          this.expiry.watch(accountId, device.loggedOutAt ?? this.now());
        }
      })
      .catch((error: unknown) => this.deps.reportError(error))
      .finally(() => {
        const connection = this.connection(accountId);
        if (connection && !this.closed) this.deps.emitAccount(connection);
      });
  }

  private async updateAccount(account: Account): Promise<void> {
    await this.deps.store.accounts.put(account);
    this.accountList = await this.deps.store.accounts.list();
    this.deps.accountsChanged();
  }

  /** An attached file's bytes, typed as they were at acceptance. */
  private async loadAttachment(messageId: string, fileName: string): Promise<DownloadedFile> {
    const stored = await this.deps.store.outbox.attachment(messageId);
    if (!stored) throw new TransportError('permanent', 'the attached file is no longer stored');
    const type = detectMediaType(stored.data, stored.mimetype, fileName);
    return { buffer: stored.data, mimetype: type.mimetype, kind: type.kind, fileName, finalUrl: '' };
  }


  /** Stops sending (the send in progress is recorded first) and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.expiry.close();
    await Promise.all([...this.links].map((link) => link.close()));
    await Promise.all([...this.dispatchers.values()].map((dispatcher) => dispatcher.close()));
    await Promise.all([...this.transports.values()].map((transport) => transport.close()));
    this.dispatchers.clear();
    this.transports.clear();
    // Only once every connection is closed may another process open one.
    await this.ownership.close();
    // An account update a connection started must land before the store closes.
    await this.accountWrites;
  }
}
