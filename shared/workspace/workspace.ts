import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { type AccountConnection, AccountRuntime, type LinkOptions } from '../accounts/account-runtime';
import { baileysDriver, type BaileysAccountsOptions } from '../transport/baileys/driver';
import { cloudApiDriver, type CloudApiAccountsOptions } from '../transport/cloud-api/driver';
import type { CloudApiConnectionOptions, CloudApiSettings } from '../transport/cloud-api/connection';
import { dryRunDriver } from '../transport/dry-run';
import { driverRegistry } from '../transport/driver';
import type { AttachedFileInput } from '../attachments';
import { DEFAULT_DOWNLOAD_POLICY, type DownloadPolicy } from '../attachments/types';
import type { SendRequest } from '../contract/types';
import { DEFAULT_GAP, type GapRange, type SendCaps, type Warmup } from '../dispatch/pacing';
import { DEFAULT_RETRY, type RetryPolicy } from '../time/backoff';
import type { Account, AccountState, Attempt, Chat, ChatInput, MessageChange, MessageEvent, OutboxMessage, QuotaState, WebhookState } from '../model';
import { pooledRandomBytes } from '../outbox/message-id';
import { periodKeyAt } from '../intake/quota';
import { ChatDirectory } from '../recipients/directory';
import { fail, ok, type Rejection, type Result } from '../rejection';
import type { QuotaPolicy, StoreChange, WorkspaceStore } from '../store/types';
import type { LinkHandle } from '../transport/linking';
import type { Transport } from '../transport/types';
import { ChangeFollower } from './change-follower';
import { ChangeJournal } from './change-journal';
import { attemptOutcome, refusedAttempt, type AttemptSource } from '../attempts/attempt-log';
import { FeedReader, startFollower, type FeedFollower, type FeedReaderOptions } from '../feed/feed-reader';
import type { Acceptance, AcceptOrigin } from '../intake/acceptance';
import { Intake } from '../intake/intake';
import { fedPayload, type AcceptedPayload } from '../outbox/payloads';
import { unavailable } from '../unavailable';
import { newWebhookToken, WebhookSecret } from '../webhook/token';
import { fillToken, type PublishedWebhook, type WebhookUrl } from '../webhook/urls';
import { fillLinkToken, LinkPages } from '../linking/link-pages';
import { ReceivedMessages } from './received-messages';
import { WorkspaceMetrics } from '../metrics/workspace-metrics';
import { checkHealth, type WorkspaceHealth } from '../metrics/health';
import { Retention, type RetentionOptions } from './retention';
import { CloudApiIntake } from './cloud-api-intake';
import { cloudApiAccountId } from '../transport/cloud-api/driver';

export type { AccountConnection, LinkOptions } from '../accounts/account-runtime';
export type { BaileysAccountsOptions } from '../transport/baileys/driver';
export type { CloudApiAccountsOptions } from '../transport/cloud-api/driver';
export type { WorkspaceHealth } from '../metrics/health';

export interface WorkspaceOptions {
  readonly store: WorkspaceStore;
  readonly quota?: Partial<QuotaPolicy> & { readonly refundDelayMs?: number };
  readonly pacing?: { readonly gap?: GapRange; readonly caps?: SendCaps; readonly warmup?: Warmup };
  readonly retry?: RetryPolicy;
  readonly download?: Partial<DownloadPolicy>;
  /** Opens the connection of a linked account instead of Baileys (tests of the core use fakes). */
  readonly openTransport?: (account: Account) => Transport;
  /** Linked (Baileys) accounts: connection settings; tests also give the socket factory and clock. */
  readonly baileys?: BaileysAccountsOptions;
  /** WhatsApp Cloud API accounts: their credentials by account id (from the engine, never the store). */
  readonly cloudApi?: CloudApiAccountsOptions;
  /**
   * false opens the store without connecting any account: a command-line link next to a running
   * engine must not open a second socket for accounts the engine holds (WhatsApp allows one).
   */
  readonly connectAccounts?: boolean;
  /** How long final messages and received messages are kept, and how they are pruned (retention.ts). */
  readonly retention?: RetentionOptions;
  /**
   * The engine process hosting this workspace, stable across its restarts (Node-RED's instance id): tags
   * what its connections receive, so that on a shared store each process's trigger emits what it received.
   */
  readonly processTag?: string;
  /** The webhook token a new store starts with (examples document a fixed one); random when absent. */
  readonly initialToken?: string;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly randomBytes?: (size: number) => Buffer;
  /** Errors that belong to no message (a store gone away); engines log them. Default: a process warning. */
  readonly onError?: (error: unknown) => void;
}

export type { AttemptSource } from '../attempts/attempt-log';

export type { Acceptance, AcceptOrigin } from '../intake/acceptance';

export type TokenCheck = 'valid' | 'disabled' | 'unknown';

export type { FeedFollower } from '../feed/feed-reader';

/** How a flow follows what the webhook accepts (see FeedReader); `via`: only what that entry point took. */
export type FollowOptions = Omit<FeedReaderOptions<AcceptedPayload>, 'toItem' | 'accepts'> & { readonly via?: string };

/** Default allowance: generous, since the owner's own phone pays nothing per message. */
const DEFAULT_QUOTA: QuotaPolicy = { period: 'daily', allowance: 1000 };

/**
 * One workspace: its webhook, accounts, chat directory, quota, outbox and dispatchers, over one store.
 * Both engines reach every rule through this object; open it once per store per process.
 */
export class Workspace {
  private readonly events = new EventEmitter();
  private readonly runtime: AccountRuntime;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly randomBytes: (size: number) => Buffer;
  private readonly quotaPolicy: QuotaPolicy;
  private readonly downloadPolicy: DownloadPolicy;
  private readonly intake: Intake;
  private webhook!: WebhookState;
  private secret!: WebhookSecret;
  private closed = false;
  private readonly readers = new Set<FeedReader<AcceptedPayload>>();
  private readonly journal: ChangeJournal;
  private follower: ChangeFollower | undefined;
  /** This workspace's id as an account owner and as the origin of the changes it writes. */
  private readonly owner: string;
  /** Account states reported by the processes that own those accounts (a shared store). */
  private readonly remoteStates = new Map<string, { readonly state: AccountState | null; readonly detail: string | null }>();
  /** One-time link pages of this workspace's linking sessions (see link-pages.ts); in memory, like the sockets. */
  readonly linkPages: LinkPages;
  /** Received messages: stored once each, handed to triggers, marked read, their media fetched. */
  readonly received: ReceivedMessages;
  /** This workspace's Prometheus metrics (a registry of its own). */
  private readonly metrics: WorkspaceMetrics;
  /** Removes final messages and received messages past the retention window, off the hot path. */
  readonly retention: Retention;
  /** What the Cloud API's webhook reports for this workspace's business numbers (see cloud-api-intake.ts). */
  readonly cloudApi: CloudApiIntake;

  private constructor(
    readonly store: WorkspaceStore,
    readonly directory: ChatDirectory,
    private readonly options: WorkspaceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.randomBytes = options.randomBytes ?? pooledRandomBytes;
    this.quotaPolicy = { ...DEFAULT_QUOTA, ...options.quota };
    this.downloadPolicy = { ...DEFAULT_DOWNLOAD_POLICY, ...options.download };
    this.linkPages = new LinkPages(this.now, undefined, store.linkPages, (error) => this.reportError(error));
    this.owner = `${hostname()} pid ${process.pid} ${this.randomBytes(6).toString('hex')}`;
    this.journal = new ChangeJournal(store.changes, this.owner, (error) => this.reportError(error));
    this.metrics = new WorkspaceMetrics({
      accounts: () => this.connections().map(({ account, state, pauseReason }) => ({ id: account.id, state, pauseReason })),
      queues: () => store.outbox.queueByAccount(),
      quota: () => this.quota(),
      now: this.now,
    });
    directory.onChange(() => this.journal.record({ kind: 'chats' }));
    this.runtime = new AccountRuntime({
      store,
      directory,
      dispatch: {
        gap: options.pacing?.gap ?? DEFAULT_GAP,
        caps: options.pacing?.caps ?? {},
        ...(options.pacing?.warmup ? { warmup: options.pacing.warmup } : {}),
        retry: options.retry ?? DEFAULT_RETRY,
        refundDelayMs: options.quota?.refundDelayMs ?? 0,
      },
      downloadPolicy: this.downloadPolicy,
      // The account kinds this workspace can open; a new transport adds its driver here.
      drivers: driverRegistry([dryRunDriver, baileysDriver(options.baileys), cloudApiDriver(() => this.cloudApi.numbers, connectionOptionsOf(options.cloudApi))]),
      openTransport: options.openTransport,
      loggedOutTtlMs: options.baileys?.loggedOutTtlMs,
      clock: options.baileys?.clock,
      connectAccounts: options.connectAccounts !== false,
      owner: this.owner,
      now: this.now,
      random: this.random,
      randomBytes: this.randomBytes,
      emitMessage: (change) => this.madeChange(change),
      emitAccount: (connection) => this.madeAccountChange(connection),
      accountsChanged: () => this.journal.record({ kind: 'accounts' }),
      accountTaken: (connection) => this.journalAccount(connection),
      received: (accountId, message) => this.received.take(accountId, message),
      sendStarted: (accountId, gapMs) => this.metrics.sendStarted(accountId, gapMs),
      disconnected: (accountId, code) => this.metrics.disconnected(accountId, code),
      reportError: (error) => this.reportError(error),
    });
    this.received = new ReceivedMessages(
      {
        store,
        directory,
        runtime: () => this.runtime,
        events: this.events,
        journal: (change) => this.journal.record(change),
        processTag: options.processTag,
        now: this.now,
        reportError: (error) => this.reportError(error),
      },
    );
    this.retention = new Retention({ store, now: this.now, reportError: (error) => this.reportError(error) }, options.retention);
    this.cloudApi = new CloudApiIntake({
      numbers: options.cloudApi?.numbers ?? [],
      store,
      received: this.received,
      refundDelayMs: options.quota?.refundDelayMs ?? 0,
      now: this.now,
      changed: (change) => this.madeChange(change),
      reportError: (error) => this.reportError(error),
    });
    this.intake = new Intake({
      store,
      directory,
      accounts: () => this.runtime.list,
      quota: this.quotaPolicy,
      maxFileBytes: this.downloadPolicy.maxBytes,
      now: this.now,
      randomBytes: this.randomBytes,
      reportError: (error) => this.reportError(error),
    });
    this.events.setMaxListeners(0);
  }

  /** A change this workspace made: its listeners hear it now, the attempt log and the change feed get it. */
  private madeChange(change: MessageChange): void {
    this.metrics.messageChanged(change);
    this.journal.record({ kind: 'message', change });
    this.events.emit('message', change);
    void this.recordOutcome(change);
  }

  private madeAccountChange(connection: AccountConnection): void {
    this.journalAccount(connection);
    this.events.emit('account', connection);
  }

  private journalAccount(connection: AccountConnection): void {
    this.journal.record({ kind: 'account', accountId: connection.account.id, state: connection.state, detail: connection.detail, at: this.now() });
  }

  /** A change another process made on the shared store: listeners here hear it, and caches follow it. */
  private async applyRemote(change: StoreChange): Promise<void> {
    switch (change.kind) {
      case 'message':
        this.events.emit('message', change.change);
        if (change.change.status === 'queued') {
          // A request another process accepted: the owner's sender wakes, flows here read the feed.
          this.runtime.queued(change.change.accountId, this.now());
          this.events.emit('accepted');
        }
        return;
      case 'account': {
        this.remoteStates.set(change.accountId, { state: change.state, detail: change.detail });
        const connection = this.connection(change.accountId);
        if (connection) this.events.emit('account', connection);
        return;
      }
      case 'webhook':
        await this.reloadWebhook();
        return;
      case 'accounts':
        await this.runtime.refreshAccounts();
        return;
      case 'chats':
        await this.directory.refresh();
        return;
      case 'received':
        this.events.emit('received');
        return;
      case 'read':
        await this.received.readAsked(change.accountId, change.ids);
        return;
    }
  }

  /** Opens the workspace: resumes messages a crash left in flight and starts every account's sending. */
  static async open(options: WorkspaceOptions): Promise<Workspace> {
    let workspace: Workspace | undefined;
    try {
      const directory = await ChatDirectory.load(options.store.chats);
      workspace = new Workspace(options.store, directory, options);
      await workspace.start();
      return workspace;
    } catch (error) {
      // A workspace that cannot start holds nothing open: a later open of the same store starts clean.
      // The start's error is the one thrown; a failure to close after it still reaches the engine's log.
      await (workspace ? workspace.close() : options.store.close()).catch((closeError: unknown) => reportTo(options.onError, closeError));
      throw error;
    }
  }

  private async start(): Promise<void> {
    // On a store other processes write to, their changes are followed from before this one loads its state.
    this.follower = await ChangeFollower.start(this.store.changes, this.owner, (change) => this.applyRemote(change), (error) => this.reportError(error));
    this.useWebhook(await this.store.webhook.get(this.options.initialToken ?? newWebhookToken(this.randomBytes), this.now()));
    // Each account's messages left in flight are recovered by the workspace that takes it (see AccountRuntime).
    await this.runtime.start();
    // Each Cloud API number the settings name is an account, added the first time (its phone comes from its check).
    const configured = new Set(this.cloudApi.numbers.map((number) => cloudApiAccountId(number.phoneNumberId)));
    await this.runtime.retireCloudApi(configured);
    for (const id of configured) await this.runtime.addCloudApi(id);
    this.retention.start();
  }

  /**
   * The Cloud API number as the engine's settings name it now (n8n reads its credential on every call): a
   * new number becomes an account, new secrets reopen its connection with them. A number left out is not
   * retired here (another credential on the same store may not name it); it is when the workspace opens.
   */
  async useCloudApiNumber(number: CloudApiSettings): Promise<void> {
    const change = this.cloudApi.use(number);
    if (change === 'same') return;
    const id = cloudApiAccountId(number.phoneNumberId);
    if (change === 'changed') await this.runtime.reopen(id);
    await this.runtime.addCloudApi(id);
  }

  // ---- webhook --------------------------------------------------------------------------------------

  webhookState(): WebhookState {
    return this.webhook;
  }

  private useWebhook(state: WebhookState): void {
    this.webhook = state;
    if (this.secret?.token !== state.token) this.secret = new WebhookSecret(state.token);
  }

  /**
   * Reads what this workspace keeps in memory again from the store: the webhook's token and switch, the
   * accounts and the chat directory. For changes another process made (a rotation, a new chat).
   */
  async refresh(): Promise<void> {
    await this.reloadWebhook();
    await this.runtime.refreshAccounts();
    await this.directory.refresh();
  }

  /** The webhook's token and switch as the store has them now (another process may have changed them). */
  private async reloadWebhook(): Promise<void> {
    this.useWebhook(await this.store.webhook.get(this.webhook.token, this.now()));
  }

  checkToken(token: string): TokenCheck {
    if (!this.secret.matches(token)) return 'unknown';
    return this.webhook.enabled ? 'valid' : 'disabled';
  }

  /** "Generate new URL": the old token stops working at once. */
  async rotateWebhookToken(): Promise<WebhookState> {
    this.useWebhook(await this.store.webhook.rotate(newWebhookToken(this.randomBytes), this.now()));
    this.journal.record({ kind: 'webhook' });
    return this.webhook;
  }

  async setWebhookEnabled(enabled: boolean): Promise<WebhookState> {
    this.useWebhook(await this.store.webhook.setEnabled(enabled));
    this.journal.record({ kind: 'webhook' });
    return this.webhook;
  }

  /** An entry point starts serving: its URL templates are recorded (replacing its earlier record). */
  async publishWebhookUrl(entry: PublishedWebhook): Promise<void> {
    await this.store.webhookUrls.publish(entry, this.now());
  }

  /** An entry point stops serving `urlTemplate`: its record goes, unless it now holds another URL. */
  async withdrawWebhookUrl(flowId: string, nodeId: string, urlTemplate: string): Promise<void> {
    await this.store.webhookUrls.withdraw(flowId, nodeId, urlTemplate);
  }

  /** Every active entry point's URL with the current token, ready to paste (a rotation shows at once). */
  async webhookUrls(): Promise<WebhookUrl[]> {
    const token = this.webhook.token;
    return (await this.store.webhookUrls.list()).map((entry) => ({
      flowId: entry.flowId,
      nodeId: entry.nodeId,
      label: entry.label,
      url: fillToken(entry.urlTemplate, token),
      dedicatedUrl: entry.dedicatedUrlTemplate === null ? null : fillToken(entry.dedicatedUrlTemplate, token),
      publishedAt: entry.publishedAt,
    }));
  }

  /** The link-page templates of the active entry points that serve link pages, newest first. */
  async linkUrlTemplates(): Promise<string[]> {
    const entries = await this.store.webhookUrls.list();
    return entries.flatMap((entry) => (entry.linkUrlTemplate === null ? [] : [entry.linkUrlTemplate])).reverse();
  }

  /** The address of a link page (linkPages) through the newest active entry point that serves them; null without one. */
  async linkPageUrl(linkToken: string): Promise<string | null> {
    const [template] = await this.linkUrlTemplates();
    return template === undefined ? null : fillLinkToken(template, linkToken);
  }

  // ---- sending --------------------------------------------------------------------------------------

  /**
   * Resolves the recipient, reserves quota and queues the message(s) in one commit; only then is the
   * request accepted. Every outcome is written to the attempt log (see intake/intake.ts for the steps).
   */
  async accept(request: SendRequest, source: AttemptSource, attached?: AttachedFileInput, origin?: AcceptOrigin): Promise<Result<Acceptance>> {
    if (this.closed) return fail(unavailable('This workspace is closing (a redeploy or a shutdown).'));
    // Only a reply waits for the store here: every other call is checked at once, in the order it arrived.
    const quoted = request.quotedMessageId === undefined ? ok(undefined) : await this.intake.findQuoted(request);
    if (!quoted.ok) return quoted.rejection.status === 503 ? fail(quoted.rejection) : this.refuse(quoted.rejection, source, request);
    const prepared = this.intake.prepare(request, source, attached, origin, quoted.value);
    if (!prepared.ok) return this.refuse(prepared.rejection, source, request);
    const committed = await this.intake.commit(prepared.value);
    if (committed.kind === 'unrecorded') return fail(committed.rejection);
    if (committed.kind === 'refused') return this.refuse(committed.rejection, source, request);
    this.announce(committed.acceptance, committed.at, origin);
    return ok(committed.acceptance);
  }

  /** A request is queued: its messages' first status, the account's sender and the feed's readers learn it. */
  private announce(acceptance: Acceptance, at: number, origin: AcceptOrigin | undefined): void {
    const { messageId: requestId, account } = acceptance;
    for (const message of acceptance.messages) {
      this.madeChange({ messageId: message.id, requestId, accountId: account.id, status: 'queued', reason: null, at } satisfies MessageChange);
    }
    this.metrics.messagesAccepted(account.id, acceptance.messages.length);
    this.runtime.queued(account.id, at);
    if (origin) this.events.emit('accepted');
  }

  /** Logs a refused call (the accept step logs accepted ones in its own commit). */
  async refuse<T>(rejection: Rejection, source: AttemptSource, request?: SendRequest): Promise<Result<T>> {
    // The refusal stands even if the log cannot be written (a full disk): the caller still learns why.
    await this.store.attempts.add(refusedAttempt(source, rejection, this.now(), request)).catch((error: unknown) => this.reportError(error));
    return fail(rejection);
  }

  // ---- the webhook's feed ---------------------------------------------------------------------------

  /**
   * For a flow that does not take accepted messages (nothing wired to them): moves its reader to the
   * newest message without reading any, so that wiring it later does not replay what came meanwhile.
   */
  async skipAccepted(reader: string): Promise<void> {
    await this.store.feed.saveCursor(reader, await this.store.feed.head(), this.now());
  }

  /**
   * Hands what the webhook accepts to a flow, from the durable record: after a redeploy or restart the
   * reader named `options.reader` resumes where it stopped, so nothing accepted meanwhile is missed.
   * Resolves once the reader has started; stop it (or close the workspace) to write where it got to.
   */
  async followAccepted(options: FollowOptions): Promise<FeedFollower> {
    const reader = new FeedReader<AcceptedPayload>(
      {
        ...options,
        accepts: options.via === undefined ? undefined : (fed) => fed.via === options.via,
        toItem: (fed) => {
          const account = this.runtime.list.find((candidate) => candidate.id === fed.accountId);
          return fedPayload(fed, { id: fed.accountId, phone: account?.phone ?? null });
        },
      },
      {
        feed: this.store.feed,
        now: this.now,
        onError: (error) => this.reportError(error),
        subscribe: (wake) => {
          this.events.on('accepted', wake);
          return () => this.events.off('accepted', wake);
        },
      },
    );
    return startFollower(reader, this.readers);
  }

  // ---- accounts and chats ---------------------------------------------------------------------------

  accounts(): readonly Account[] {
    return this.runtime.list;
  }

  /** A dry-run account records messages instead of sending them (see DryRunTransport). */
  addDryRunAccount(phone: string, name: string | null = null): Promise<Account> {
    return this.runtime.addDryRun(phone, name);
  }

  /** Removes an account; its queued messages fail and are refunded. */
  removeAccount(id: string): Promise<void> {
    return this.runtime.remove(id);
  }

  /** The chats this workspace knows (of one account, or all), with the chat ids the webhook accepts. */
  chats(accountId?: string): readonly Chat[] {
    return this.directory.list(accountId);
  }

  /** Messages waiting to be sent (queued or sending), over every account. */
  waitingCount(): Promise<number> {
    return this.store.outbox.countWaiting();
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
    return this.runtime.startLink(options);
  }

  /** Logs the device out on WhatsApp, erases its auth state and removes the account; its queued messages fail and are refunded. */
  unlink(accountId: string): Promise<void> {
    return this.runtime.unlink(accountId);
  }

  /** Every account with its connection state. */
  connections(): AccountConnection[] {
    return this.runtime.connections().map((connection) => this.withRemoteState(connection));
  }

  connection(accountId: string): AccountConnection | undefined {
    const connection = this.runtime.connection(accountId);
    return connection && this.withRemoteState(connection);
  }

  /** An account another process owns shows the state that process reported. */
  private withRemoteState(connection: AccountConnection): AccountConnection {
    if (connection.state !== null) return connection;
    const remote = this.remoteStates.get(connection.account.id);
    // The owner's journal carries the state and its sentence; a paused account's sentence is the pause's reason.
    return remote ? { ...connection, state: remote.state, detail: remote.detail, pauseReason: remote.state === 'paused' ? remote.detail : null } : connection;
  }

  /** Called when an account's connection state changes (after its record is updated). */
  onAccountChange(listener: (connection: AccountConnection) => void): () => void {
    this.events.on('account', listener);
    return () => this.events.off('account', listener);
  }

  /** Lifts a pause (restriction, message cap) early; false when the account has no such connection. */
  resumeAccount(accountId: string): boolean {
    return this.runtime.resume(accountId);
  }

  /** Reconnects now: after another client replaced this one (440), or to skip a backoff. */
  reconnectAccount(accountId: string): boolean {
    return this.runtime.reconnect(accountId);
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

  /** Messages waiting to be sent (queued or sending) per account; an account with none is absent. */
  async queueDepths(): Promise<ReadonlyMap<string, number>> {
    return this.store.outbox.countWaitingByAccount();
  }

  /** The account's last `limit` failed messages, newest first (each with its reason). */
  async failedMessages(accountId: string, limit = 5): Promise<OutboxMessage[]> {
    return this.store.outbox.lastFailed(accountId, limit);
  }

  async attempts(limit = 100): Promise<Attempt[]> {
    return this.store.attempts.list(limit);
  }

  // ---- metrics and health --------------------------------------------------------------------------

  /** An entry point answered a webhook call of this workspace with `status` (see webhook/webhook.ts); counted in the metrics. */
  /** A call at the Cloud API webhook this workspace's numbers were asked to answer. */
  cloudApiWebhookAnswered(status: number): void {
    this.metrics.cloudApiWebhookAnswered(status);
  }

  webhookAnswered(status: number): void {
    this.metrics.webhookAnswered(status);
  }

  /** The Prometheus text format of this workspace's metrics, gauges read now; rejects when the store does not answer. */
  async metricsText(): Promise<{ readonly contentType: string; readonly text: string }> {
    if (this.closed) throw new Error('The workspace is not open: it is closing or being reopened.');
    return { contentType: this.metrics.contentType, text: await this.metrics.text() };
  }

  /** Whether the store answers (a read of the queue index), and each account's state (see WorkspaceHealth). */
  health(): Promise<WorkspaceHealth> {
    const accounts = this.connections().map(({ account, state }) => ({ id: account.id, phone: account.phone, state }));
    const probe = this.closed ? () => Promise.reject(new Error('database is not open')) : () => this.store.outbox.countWaiting();
    return checkHealth(probe, accounts);
  }

  onMessageChange(listener: (change: MessageChange) => void): () => void {
    this.events.on('message', listener);
    return () => this.events.off('message', listener);
  }

  /** False once close() has begun: a closing workspace accepts nothing (callers answer 503). */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Stops sending (the send in progress is recorded first) and closes every connection and the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.retention.close();
    this.cloudApi.close();
    await this.follower?.close().catch((error: unknown) => this.reportError(error));
    // Readers write where they got to while the store is still open.
    await Promise.all([...this.readers].map((reader) => reader.stop().catch((error: unknown) => this.reportError(error))));
    this.readers.clear();
    await this.runtime.close();
    // After the connections closed, so that what they received last is stored first.
    await this.received.close().catch((error: unknown) => this.reportError(error));
    this.events.removeAllListeners();
    await this.journal.close();
    await this.store.close();
  }

  // ---- internals ------------------------------------------------------------------------------------

  /** Errors that belong to no message or request (a store gone away): the engine's log gets them. */
  reportError(error: unknown): void {
    reportTo(this.options.onError, error);
  }

  private async recordOutcome(change: MessageChange): Promise<void> {
    const outcome = attemptOutcome(change);
    if (outcome === null || this.closed) return;
    await this.store.attempts.setOutcome(change.requestId, outcome, change.at).catch((error: unknown) => this.reportError(error));
  }
}

/** The connection options of Cloud API accounts: everything but the numbers, which the workspace keeps current. */
function connectionOptionsOf(options: CloudApiAccountsOptions | undefined): CloudApiConnectionOptions {
  const { numbers: _numbers, ...connection } = options ?? {};
  return connection;
}

/** The engine's onError, or a process warning without one (before a workspace exists too). */
function reportTo(onError: WorkspaceOptions['onError'], error: unknown): void {
  (onError ?? ((e: unknown) => process.emitWarning(`WhatsApp workspace: ${String(e)}`)))(error);
}
