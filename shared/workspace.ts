import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { downloadAttachment } from './attachments';
import { DEFAULT_DOWNLOAD_POLICY, type DownloadPolicy } from './attachments/types';
import { errorBody, successBody } from './contract/responses';
import type { SendRequest } from './contract/types';
import { AccountDispatcher, type DispatchOptions } from './dispatch/dispatcher';
import { DEFAULT_GAP, type GapRange, type SendCaps } from './dispatch/pacing';
import { DEFAULT_RETRY, type RetryPolicy } from './dispatch/retry';
import type { Account, Attempt, Chat, ChatInput, MessageChange, MessageEvent, OutboxMessage, QuotaState, WebhookState } from './model';
import { newMessageId } from './outbox/message-id';
import { describeShortfall, periodKeyAt, unitsFor } from './quota';
import { ChatDirectory } from './recipients/directory';
import { resolveRecipient } from './recipients/resolve';
import { fail, ok, reject, type Rejection, type Result } from './rejection';
import type { NewMessage, QuotaPolicy, WorkspaceStore } from './store/types';
import { DryRunTransport } from './transport/dry-run';
import type { Transport } from './transport/types';
import { newWebhookToken, tokensMatch } from './webhook-token';

export interface WorkspaceOptions {
  readonly store: WorkspaceStore;
  readonly quota?: Partial<QuotaPolicy> & { readonly refundDelayMs?: number };
  readonly pacing?: { readonly gap?: GapRange; readonly caps?: SendCaps };
  readonly retry?: RetryPolicy;
  readonly download?: Partial<DownloadPolicy>;
  /** Opens the connection of a linked (non dry-run) account; absent until a transport is installed. */
  readonly openTransport?: (account: Account) => Transport;
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
  private accountList: Account[] = [];
  private webhook!: WebhookState;
  private closed = false;

  private constructor(
    readonly store: WorkspaceStore,
    readonly directory: ChatDirectory,
    private readonly options: WorkspaceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.randomBytes = options.randomBytes ?? randomBytes;
    this.quotaPolicy = { ...DEFAULT_QUOTA, ...options.quota };
    this.dispatch = {
      gap: options.pacing?.gap ?? DEFAULT_GAP,
      caps: options.pacing?.caps ?? {},
      retry: options.retry ?? DEFAULT_RETRY,
      refundDelayMs: options.quota?.refundDelayMs ?? 0,
    };
    this.downloadPolicy = { ...DEFAULT_DOWNLOAD_POLICY, ...options.download };
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
    this.webhook = await this.store.webhook.get(newWebhookToken(this.randomBytes), this.now());
    await this.store.outbox.recoverInFlight(this.now());
    this.accountList = await this.store.accounts.list();
    for (const account of this.accountList) this.connect(account);
    this.events.on('message', (change: MessageChange) => void this.recordOutcome(change));
  }

  // ---- webhook --------------------------------------------------------------------------------------

  webhookState(): WebhookState {
    return this.webhook;
  }

  checkToken(token: string): TokenCheck {
    if (!tokensMatch(token, this.webhook.token)) return 'unknown';
    return this.webhook.enabled ? 'valid' : 'disabled';
  }

  /** "Generate new URL": the old token stops working at once. */
  async rotateWebhookToken(): Promise<WebhookState> {
    this.webhook = await this.store.webhook.rotate(newWebhookToken(this.randomBytes), this.now());
    return this.webhook;
  }

  async setWebhookEnabled(enabled: boolean): Promise<WebhookState> {
    this.webhook = await this.store.webhook.setEnabled(enabled);
    return this.webhook;
  }

  // ---- sending --------------------------------------------------------------------------------------

  /**
   * Resolves the recipient, reserves quota and queues the message(s) in one commit; only then is the
   * request accepted. Every outcome is written to the attempt log.
   */
  async accept(request: SendRequest, source: AttemptSource): Promise<Result<Acceptance>> {
    const resolved = resolveRecipient(request, this.accountList, this.directory);
    if (!resolved.ok) return this.refuse(resolved.rejection, source, request);
    const { account, jid } = resolved.value;

    const messages = this.buildMessages(request, account.id, jid);
    const requestId = messages[0]!.id;
    const now = this.now();
    const units = unitsFor(request);
    const outcome = await this.store.accept({
      messages,
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

  private buildMessages(request: SendRequest, accountId: string, jid: string | null): NewMessage[] {
    const parts: NewMessage[] = [];
    const base = { accountId, recipient: request.recipient, jid };
    const firstId = newMessageId(this.randomBytes);
    if (request.text.length > 0) {
      parts.push({ ...base, id: firstId, requestId: firstId, part: 'text', text: request.text, fileUrl: null, fileName: null });
    }
    if (request.file) {
      const id = parts.length === 0 ? firstId : newMessageId(this.randomBytes);
      parts.push({ ...base, id, requestId: firstId, part: 'file', text: null, fileUrl: request.file.url, fileName: request.file.name });
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
    await this.dispatchers.get(id)?.close();
    await this.transports.get(id)?.close();
    this.dispatchers.delete(id);
    this.transports.delete(id);
    await this.store.accounts.remove(id);
    this.accountList = await this.store.accounts.list();
  }

  async addChats(accountId: string, chats: readonly ChatInput[]): Promise<Chat[]> {
    return this.directory.upsert(accountId, chats, this.now());
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
    await Promise.all([...this.dispatchers.values()].map((dispatcher) => dispatcher.close()));
    await Promise.all([...this.transports.values()].map((transport) => transport.close()));
    this.dispatchers.clear();
    this.transports.clear();
    this.events.removeAllListeners();
    await this.store.close();
  }

  // ---- internals ------------------------------------------------------------------------------------

  private connect(account: Account): void {
    const transport =
      account.kind === 'dry-run'
        ? new DryRunTransport(account.id, account.phone, this.store.dryRun, this.now)
        : this.options.openTransport?.(account);
    if (!transport) return;
    const dispatcher = new AccountDispatcher(account.id, this.dispatch, {
      outbox: this.store.outbox,
      transport,
      download: (url, fileName) => downloadAttachment(url, fileName, this.downloadPolicy),
      now: this.now,
      random: this.random,
      onChange: (change) => this.emit(change),
      onError: this.options.onError ?? ((error) => process.emitWarning(`WhatsApp dispatcher: ${String(error)}`)),
    });
    this.transports.set(account.id, transport);
    this.dispatchers.set(account.id, dispatcher);
    dispatcher.wake();
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
