import { EventEmitter } from 'node:events';
import { checkAttachedFile, detectMediaType, downloadAttachment, type AttachedFileInput } from './attachments';
import { DEFAULT_DOWNLOAD_POLICY, type DownloadedFile, type DownloadPolicy } from './attachments/types';
import { errorBody, successBody } from './contract/responses';
import type { SendRequest } from './contract/types';
import { AccountDispatcher, type DispatchOptions } from './dispatch/dispatcher';
import { DEFAULT_LOGGED_OUT_TTL_MS, LoggedOutExpiry } from './dispatch/logged-out-expiry';
import { DEFAULT_GAP, type GapRange, type SendCaps } from './dispatch/pacing';
import { DEFAULT_RETRY, type RetryPolicy } from './dispatch/retry';
import type { Account, AccountState, Attempt, Chat, ChatInput, MessageChange, MessageEvent, OutboxMessage, QuotaState, WebhookState } from './model';
import { normalizePhone } from './contract/phone';
import { newMessageId, pooledRandomBytes } from './outbox/message-id';
import { describeShortfall, periodKeyAt, unitsFor } from './quota';
import { ChatDirectory } from './recipients/directory';
import { resolveRecipient } from './recipients/resolve';
import { fail, ok, reject, type Rejection, type Result } from './rejection';
import type { NewMessage, QuotaPolicy, WorkspaceStore } from './store/types';
import { DryRunTransport } from './transport/dry-run';
import { TransportError, type Transport } from './transport/types';
import type { SocketFactory } from './transport/baileys/baileys-module';
import { BaileysConnection, type BaileysConnectionOptions, type ConnectionMode } from './transport/baileys/connection';
import { LinkHandle, type LinkedIdentity } from './transport/baileys/linking';
import { realClock, type Clock } from './transport/baileys/timeouts';
import { newWebhookToken, WebhookSecret } from './webhook-token';

export interface WorkspaceOptions {
  readonly store: WorkspaceStore;
  readonly quota?: Partial<QuotaPolicy> & { readonly refundDelayMs?: number };
  readonly pacing?: { readonly gap?: GapRange; readonly caps?: SendCaps };
  readonly retry?: RetryPolicy;
  readonly download?: Partial<DownloadPolicy>;
  /** Opens the connection of a linked account instead of Baileys (tests of the core use fakes). */
  readonly openTransport?: (account: Account) => Transport;
  /** Linked (Baileys) accounts: connection settings; tests also give the socket factory and clock. */
  readonly baileys?: BaileysAccountsOptions;
  /**
   * false opens the store without connecting any account: a command-line link next to a running
   * engine must not open a second socket for accounts the engine holds (WhatsApp allows one).
   */
  readonly connectAccounts?: boolean;
  /** The webhook token a new store starts with (examples document a fixed one); random when absent. */
  readonly initialToken?: string;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly randomBytes?: (size: number) => Buffer;
  /** Errors that belong to no message (a store gone away); engines log them. Default: a process warning. */
  readonly onError?: (error: unknown) => void;
}

/** Who or what made a sending attempt, for the attempt log. */
export interface AttemptSource {
  readonly remoteAddress: string | null;
  /** The request as received (the log keeps the first 4 KiB). */
  readonly request: string;
}

export interface Acceptance {
  /** The WhatsApp id of the request's first message; the webhook answers `wa_backend:` + this. */
  readonly messageId: string;
  readonly messages: readonly NewMessage[];
  readonly account: Account;
  readonly units: number;
}

export type TokenCheck = 'valid' | 'disabled' | 'unknown';

export interface BaileysAccountsOptions extends BaileysConnectionOptions {
  /** How long queued messages wait for a logged-out account to be linked again; then they fail and are refunded. */
  readonly loggedOutTtlMs?: number;
  readonly makeSocket?: SocketFactory;
  readonly clock?: Clock;
}

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
}

const REQUEST_LOG_LIMIT = 4096;
/** Default allowance: generous, since the owner's own phone pays nothing per message. */
const DEFAULT_QUOTA: QuotaPolicy = { period: 'daily', allowance: 1000 };

/**
 * One workspace: its webhook, accounts, chat directory, quota, outbox and dispatchers, over one store.
 * Both engines reach every rule through this object; open it once per store per process.
 */
export class Workspace {
  private readonly events = new EventEmitter();
  private readonly dispatchers = new Map<string, AccountDispatcher>();
  private readonly transports = new Map<string, Transport>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly randomBytes: (size: number) => Buffer;
  private readonly quotaPolicy: QuotaPolicy;
  private readonly dispatch: DispatchOptions;
  private readonly downloadPolicy: DownloadPolicy;
  private readonly expiry: LoggedOutExpiry;
  private readonly links = new Set<BaileysConnection>();
  private readonly unwatchState = new Map<string, () => void>();
  private accountWrites: Promise<void> = Promise.resolve();
  private accountList: Account[] = [];
  private webhook!: WebhookState;
  private secret!: WebhookSecret;
  private closed = false;

  private constructor(
    readonly store: WorkspaceStore,
    readonly directory: ChatDirectory,
    private readonly options: WorkspaceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.randomBytes = options.randomBytes ?? pooledRandomBytes;
    this.quotaPolicy = { ...DEFAULT_QUOTA, ...options.quota };
    this.dispatch = {
      gap: options.pacing?.gap ?? DEFAULT_GAP,
      caps: options.pacing?.caps ?? {},
      retry: options.retry ?? DEFAULT_RETRY,
      refundDelayMs: options.quota?.refundDelayMs ?? 0,
    };
    this.downloadPolicy = { ...DEFAULT_DOWNLOAD_POLICY, ...options.download };
    this.expiry = new LoggedOutExpiry({
      outbox: store.outbox,
      ttlMs: options.baileys?.loggedOutTtlMs ?? DEFAULT_LOGGED_OUT_TTL_MS,
      refundDelayMs: this.dispatch.refundDelayMs,
      now: this.now,
      timers: options.baileys?.clock ?? realClock,
      onFailed: (messages, reason) => {
        const at = this.now();
        for (const message of messages) {
          this.emit({ messageId: message.id, requestId: message.requestId, accountId: message.accountId, status: 'failed', reason, at });
        }
      },
      onError: (error) => this.reportError(error),
    });
    this.events.setMaxListeners(0);
  }

  /** Opens the workspace: resumes messages a crash left in flight and starts every account's sending. */
  static async open(options: WorkspaceOptions): Promise<Workspace> {
    const directory = await ChatDirectory.load(options.store.chats);
    const workspace = new Workspace(options.store, directory, options);
    await workspace.start();
    return workspace;
  }

  private async start(): Promise<void> {
    this.useWebhook(await this.store.webhook.get(this.options.initialToken ?? newWebhookToken(this.randomBytes), this.now()));
    await this.store.outbox.recoverInFlight(this.now());
    this.accountList = await this.store.accounts.list();
    if (this.options.connectAccounts !== false) for (const account of this.accountList) this.connect(account);
    this.events.on('message', (change: MessageChange) => void this.recordOutcome(change));
  }

  // ---- webhook --------------------------------------------------------------------------------------

  webhookState(): WebhookState {
    return this.webhook;
  }

  private useWebhook(state: WebhookState): void {
    this.webhook = state;
    if (this.secret?.token !== state.token) this.secret = new WebhookSecret(state.token);
  }

  checkToken(token: string): TokenCheck {
    if (!this.secret.matches(token)) return 'unknown';
    return this.webhook.enabled ? 'valid' : 'disabled';
  }

  /** "Generate new URL": the old token stops working at once. */
  async rotateWebhookToken(): Promise<WebhookState> {
    this.useWebhook(await this.store.webhook.rotate(newWebhookToken(this.randomBytes), this.now()));
    return this.webhook;
  }

  async setWebhookEnabled(enabled: boolean): Promise<WebhookState> {
    this.useWebhook(await this.store.webhook.setEnabled(enabled));
    return this.webhook;
  }

  // ---- sending --------------------------------------------------------------------------------------

  /**
   * Resolves the recipient, reserves quota and queues the message(s) in one commit; only then is the
   * request accepted. Every outcome is written to the attempt log.
   */
  async accept(request: SendRequest, source: AttemptSource, attached?: AttachedFileInput): Promise<Result<Acceptance>> {
    const file = this.checkAttached(request, attached);
    if (!file.ok) return this.refuse(file.rejection, source, request);
    const resolved = resolveRecipient(request, this.accountList, this.directory);
    if (!resolved.ok) return this.refuse(resolved.rejection, source, request);
    const { account, jid } = resolved.value;

    const now = this.now();
    const messages = this.buildMessages(request, account.id, jid, now);
    const requestId = messages[0]!.id;
    const units = unitsFor(request);
    const fileMessage = messages.find((message) => message.part === 'file');
    const outcome = await this.store.accept({
      messages,
      ...(file.value && fileMessage ? { attachments: [{ messageId: fileMessage.id, data: file.value.buffer, mimetype: file.value.mimetype }] } : {}),
      units,
      quota: this.quotaPolicy,
      periodKey: periodKeyAt(this.quotaPolicy.period, now),
      now,
      attempt: {
        at: now,
        remoteAddress: source.remoteAddress,
        request: source.request.slice(0, REQUEST_LOG_LIMIT),
        status: 200,
        response: JSON.stringify(successBody(requestId)),
        messageId: requestId,
        notes: attemptNotes(request),
      },
    });
    if (!outcome.accepted) return this.refuse(reject(429, describeShortfall(outcome.available, outcome.needed)), source, request);

    for (const message of messages) {
      this.emit({ messageId: message.id, requestId, accountId: account.id, status: 'queued', reason: null, at: now });
    }
    this.dispatchers.get(account.id)?.wake();
    this.expiry.queued(account.id, now);
    return ok({ messageId: requestId, messages, account, units });
  }

  /** Logs a refused call (the accept step logs accepted ones in its own commit). */
  async refuse<T>(rejection: Rejection, source: AttemptSource, request?: SendRequest): Promise<Result<T>> {
    await this.store.attempts.add({
      at: this.now(),
      remoteAddress: source.remoteAddress,
      request: source.request.slice(0, REQUEST_LOG_LIMIT),
      status: rejection.status,
      response: JSON.stringify(errorBody(rejection)),
      messageId: null,
      notes: request ? attemptNotes(request) : null,
    });
    return fail(rejection);
  }

  /** An engine's attached file must match the request, and meet the limits a download would. */
  private checkAttached(request: SendRequest, attached: AttachedFileInput | undefined): Result<DownloadedFile | undefined> {
    const wantsAttachment = request.file !== undefined && 'attached' in request.file;
    if (wantsAttachment !== (attached !== undefined)) {
      return fail(reject(400, wantsAttachment ? 'The request names an attached file, but no file was attached.' : 'A file was attached to a request that does not name one.', 'attachment'));
    }
    return attached ? checkAttachedFile(attached, request.file!.name, this.downloadPolicy.maxBytes) : ok(undefined);
  }

  private buildMessages(request: SendRequest, accountId: string, jid: string | null, now: number): NewMessage[] {
    const parts: NewMessage[] = [];
    const base = { accountId, recipient: request.recipient, jid };
    const firstId = newMessageId(now, this.randomBytes);
    if (request.text.length > 0) {
      parts.push({ ...base, id: firstId, requestId: firstId, part: 'text', text: request.text, fileUrl: null, fileName: null });
    }
    if (request.file) {
      const id = parts.length === 0 ? firstId : newMessageId(now, this.randomBytes);
      parts.push({ ...base, id, requestId: firstId, part: 'file', text: null, fileUrl: 'url' in request.file ? request.file.url : null, fileName: request.file.name });
    }
    return parts;
  }

  // ---- accounts and chats ---------------------------------------------------------------------------

  accounts(): readonly Account[] {
    return this.accountList;
  }

  /** A dry-run account records messages instead of sending them (see DryRunTransport). */
  async addDryRunAccount(phone: string, name: string | null = null): Promise<Account> {
    const now = this.now();
    const account: Account = { id: `dry-run-${phone}`, kind: 'dry-run', phone, name, createdAt: now, connectedAt: now, active: true };
    await this.store.accounts.put(account);
    this.accountList = await this.store.accounts.list();
    this.connect(account);
    return account;
  }

  async removeAccount(id: string): Promise<void> {
    await this.disconnect(id);
    this.expiry.unwatch(id);
    await this.store.accounts.remove(id);
    this.accountList = await this.store.accounts.list();
  }

  async addChats(accountId: string, chats: readonly ChatInput[]): Promise<Chat[]> {
    return this.directory.upsert(accountId, chats, this.now());
  }

  // ---- linked accounts ------------------------------------------------------------------------------

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
    const tempId = `link-${this.randomBytes(8).toString('hex')}`;
    const connection = this.newConnection(tempId, null, { kind: 'link', ...(pairingPhone ? { pairingPhone } : {}) });
    this.links.add(connection);
    const handle = new LinkHandle(connection, (identity) => this.completeLink(tempId, identity));
    handle.linked
      .catch(() => this.store.auth.clear(tempId).catch(() => undefined))
      .finally(() => this.links.delete(connection));
    void connection.start();
    return handle;
  }

  /** Logs the device out on WhatsApp, erases its auth state and removes the account; its queued messages fail and are refunded. */
  async unlink(accountId: string): Promise<void> {
    const transport = this.transports.get(accountId);
    // The logout closes the socket with 401: that is no news to record, the account is going away.
    this.unwatchState.get(accountId)?.();
    this.unwatchState.delete(accountId);
    if (transport instanceof BaileysConnection) await transport.logout();
    await this.accountWrites;
    await this.removeAccount(accountId);
    await this.store.auth.clear(accountId);
    const now = this.now();
    const reason = 'The WhatsApp account was unlinked before this message was sent';
    const { failed } = await this.store.outbox.expireQueued(accountId, Number.MAX_SAFE_INTEGER, reason, now, now + this.dispatch.refundDelayMs);
    for (const message of failed) this.emit({ messageId: message.id, requestId: message.requestId, accountId, status: 'failed', reason, at: now });
  }

  /** Every account with its connection state. */
  connections(): AccountConnection[] {
    return this.accountList.map((account) => this.connection(account.id)!);
  }

  connection(accountId: string): AccountConnection | undefined {
    const account = this.accountList.find((candidate) => candidate.id === accountId);
    if (!account) return undefined;
    const transport = this.transports.get(accountId);
    const info = transport instanceof BaileysConnection ? transport.connectionInfo() : undefined;
    return { account, state: transport?.state ?? null, detail: info?.detail ?? null, pausedUntil: info?.pausedUntil ?? null };
  }

  /** Called when an account's connection state changes (after its record is updated). */
  onAccountChange(listener: (connection: AccountConnection) => void): () => void {
    this.events.on('account', listener);
    return () => this.events.off('account', listener);
  }

  /** Lifts a pause (restriction, message cap) early; false when the account has no such connection. */
  resumeAccount(accountId: string): boolean {
    const transport = this.transports.get(accountId);
    if (!(transport instanceof BaileysConnection)) return false;
    transport.resume();
    return true;
  }

  /** Reconnects now: after another client replaced this one (440), or to skip a backoff. */
  reconnectAccount(accountId: string): boolean {
    const transport = this.transports.get(accountId);
    if (!(transport instanceof BaileysConnection)) return false;
    transport.reconnect();
    return true;
  }

  private async completeLink(tempId: string, identity: LinkedIdentity): Promise<Account> {
    const now = this.now();
    const existing = (await this.store.accounts.list()).find((account) => account.phone === identity.phone);
    const id = existing?.id ?? `wa-${identity.phone}`;
    if (existing) await this.disconnect(existing.id);
    await this.store.auth.move(tempId, id);
    const account: Account = {
      id,
      kind: 'baileys',
      phone: identity.phone,
      name: identity.name ?? existing?.name ?? null,
      createdAt: existing?.createdAt ?? now,
      connectedAt: now,
      active: true,
    };
    this.expiry.unwatch(id);
    await this.updateAccount(account);
    if (this.options.connectAccounts !== false && !this.closed) this.connect(account);
    return account;
  }

  // ---- reading state --------------------------------------------------------------------------------

  async quota(): Promise<QuotaState> {
    return this.store.quota.state(this.quotaPolicy, periodKeyAt(this.quotaPolicy.period, this.now()), this.now());
  }

  async topUp(units: number): Promise<QuotaState> {
    await this.store.quota.topUp(units, periodKeyAt(this.quotaPolicy.period, this.now()));
    return this.quota();
  }

  async message(id: string): Promise<(OutboxMessage & { history: MessageEvent[] }) | undefined> {
    const message = await this.store.outbox.get(id);
    return message && { ...message, history: await this.store.outbox.history(id) };
  }

  async attempts(limit = 100): Promise<Attempt[]> {
    return this.store.attempts.list(limit);
  }

  onMessageChange(listener: (change: MessageChange) => void): () => void {
    this.events.on('message', listener);
    return () => this.events.off('message', listener);
  }

  /** Stops sending (the send in progress is recorded first) and closes every connection and the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.expiry.close();
    await Promise.all([...this.links].map((link) => link.close()));
    await Promise.all([...this.dispatchers.values()].map((dispatcher) => dispatcher.close()));
    await Promise.all([...this.transports.values()].map((transport) => transport.close()));
    this.dispatchers.clear();
    this.transports.clear();
    // An account update a connection started must land before the store closes.
    await this.accountWrites;
    this.events.removeAllListeners();
    await this.store.close();
  }

  // ---- internals ------------------------------------------------------------------------------------

  private connect(account: Account): void {
    const transport =
      account.kind === 'dry-run'
        ? new DryRunTransport(account.id, account.phone, this.store.dryRun, this.now)
        : (this.options.openTransport?.(account) ?? this.openConnection(account));
    const dispatcher = new AccountDispatcher(account.id, this.dispatch, {
      outbox: this.store.outbox,
      transport,
      download: (url, fileName) => downloadAttachment(url, fileName, this.downloadPolicy),
      loadAttachment: (messageId, fileName) => this.loadAttachment(messageId, fileName),
      now: this.now,
      random: this.random,
      onChange: (change) => this.emit(change),
      onError: (error) => this.reportError(error),
    });
    this.transports.set(account.id, transport);
    this.dispatchers.set(account.id, dispatcher);
    if (account.kind !== 'dry-run') {
      this.unwatchState.set(account.id, transport.onStateChange((state) => this.accountStateChanged(account.id, transport, state)));
      if (transport instanceof BaileysConnection) void transport.start();
    }
    dispatcher.wake();
  }

  /** Closes an account's sending and connection, keeping the account and its queue. */
  private async disconnect(id: string): Promise<void> {
    this.unwatchState.get(id)?.();
    this.unwatchState.delete(id);
    await this.dispatchers.get(id)?.close();
    await this.transports.get(id)?.close();
    this.dispatchers.delete(id);
    this.transports.delete(id);
  }

  private openConnection(account: Account): BaileysConnection {
    return this.newConnection(account.id, account.phone, { kind: 'connect' });
  }

  private newConnection(accountId: string, phone: string | null, mode: ConnectionMode): BaileysConnection {
    const { loggedOutTtlMs: _ttl, makeSocket, clock, ...options } = this.options.baileys ?? {};
    return new BaileysConnection(
      options,
      {
        accountId,
        phone,
        auth: this.store.auth,
        // Synced chats get their chat ids here; a push name never replaces a name the directory shows.
        directory: {
          upsert: async (chats) => {
            await this.addChats(accountId, chats);
          },
          nameOf: (jid) => {
            const chat = this.directory.findByJid(accountId, jid);
            return chat ? chat.name : undefined;
          },
        },
        messageText: async (id) => (await this.store.outbox.get(id))?.text ?? undefined,
        ...(makeSocket ? { makeSocket } : {}),
        ...(clock ? { clock } : {}),
        random: this.random,
        onError: (error) => this.reportError(error),
      },
      mode,
    );
  }

  /** Persists what a connection learns: phone and connect time when it opens, inactive when logged out. */
  private accountStateChanged(accountId: string, transport: Transport, state: AccountState): void {
    this.accountWrites = this.accountWrites
      .then(async () => {
        const account = this.accountList.find((candidate) => candidate.id === accountId);
        if (!account || this.closed) return;
        if (state === 'open') {
          this.expiry.unwatch(accountId);
          const name = transport instanceof BaileysConnection ? (transport.name ?? account.name) : account.name;
          await this.updateAccount({ ...account, phone: transport.phone ?? account.phone, name, connectedAt: this.now(), active: true });
        } else if (state === 'logged_out') {
          if (account.active) await this.updateAccount({ ...account, active: false });
          const device = await this.store.auth.readDeviceState(accountId);
          this.expiry.watch(accountId, device.loggedOutAt ?? this.now());
        }
      })
      .catch((error: unknown) => this.reportError(error))
      .finally(() => {
        const connection = this.connection(accountId);
        if (connection && !this.closed) this.events.emit('account', connection);
      });
  }

  private async updateAccount(account: Account): Promise<void> {
    await this.store.accounts.put(account);
    this.accountList = await this.store.accounts.list();
  }

  /** An attached file's bytes, typed as they were at acceptance. */
  private async loadAttachment(messageId: string, fileName: string): Promise<DownloadedFile> {
    const stored = await this.store.outbox.attachment(messageId);
    if (!stored) throw new TransportError('permanent', 'the attached file is no longer stored');
    const type = detectMediaType(stored.data, stored.mimetype, fileName);
    return { buffer: stored.data, mimetype: type.mimetype, kind: type.kind, fileName, finalUrl: '' };
  }

  private reportError(error: unknown): void {
    (this.options.onError ?? ((e: unknown) => process.emitWarning(`WhatsApp workspace: ${String(e)}`)))(error);
  }

  private emit(change: MessageChange): void {
    this.events.emit('message', change);
  }

  private async recordOutcome(change: MessageChange): Promise<void> {
    if (change.status === 'queued' || change.status === 'sending' || this.closed) return;
    const outcome = change.reason ? `${change.status}: ${change.reason}` : change.status;
    await this.store.attempts.setOutcome(change.requestId, outcome, change.at).catch(() => undefined);
  }
}

function attemptNotes(request: SendRequest): string {
  const notes = [`recipient by ${request.recipient.field}`];
  if (request.unusedRecipientFields.length > 0) notes.push(`also given, not used: ${request.unusedRecipientFields.join(', ')}`);
  if (request.ignoredFields.length > 0) notes.push(`ignored fields: ${request.ignoredFields.join(', ')}`);
  return notes.join('; ');
}
