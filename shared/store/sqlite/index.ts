import type { DatabaseSync } from 'node:sqlite';
import type { AcceptInput, AcceptOutcome, WorkspaceStore } from '../types';
import { inTransaction, openDatabase, type SqliteOptions } from './database';
import { SqliteAccountRepository } from './account-repository';
import { SqliteAttemptRepository } from './attempt-repository';
import { SqliteAuthRepository } from './auth-repository';
import { SqliteChangeRepository } from './change-repository';
import { SqliteChatRepository } from './chat-repository';
import { SqliteDryRunRepository } from './dry-run-repository';
import { SqliteFeedRepository } from './feed-repository';
import { SqliteInboundRepository } from './inbound-repository';
import { IntakeJournal, type AcceptedRequest } from './intake';
import { SqliteOutboxRepository } from './outbox-repository';
import { SqliteOwnershipRepository } from './ownership-repository';
import { SqliteQuotaRepository } from './quota-repository';
import { MemoryLinkPageRepository } from '../memory-link-pages';
import { SqliteWebhookRepository } from './webhook-repository';
import { SqliteWebhookUrlRepository } from './webhook-url-repository';

export type { Durability, SqliteOptions } from './database';

/** PRAGMA auto_vacuum's value once the file can give free pages back a step at a time. */
const INCREMENTAL = 2;
/**
 * A file made before incremental vacuum (auto_vacuum NONE) is converted by one full VACUUM, which
 * rewrites what the file keeps and holds the process (node:sqlite is synchronous) for about 1 s per
 * 90 MB measured here: done after a prune, when the least is kept, and only up to this much. A larger
 * file keeps reusing its free pages without shrinking; `VACUUM` by hand (engine stopped) converts it.
 */
const CONVERT_UP_TO_BYTES = 64 * 1_048_576;

/** The embedded default store: one SQLite file through node:sqlite (no native addon to build). */
export class SqliteStore implements WorkspaceStore {
  readonly webhook: SqliteWebhookRepository;
  readonly accounts: SqliteAccountRepository;
  readonly chats: SqliteChatRepository;
  readonly outbox: SqliteOutboxRepository;
  readonly quota: SqliteQuotaRepository;
  readonly attempts: SqliteAttemptRepository;
  readonly dryRun: SqliteDryRunRepository;
  readonly auth: SqliteAuthRepository;
  readonly feed: SqliteFeedRepository;
  readonly webhookUrls: SqliteWebhookUrlRepository;
  readonly ownership = new SqliteOwnershipRepository();
  readonly changes: SqliteChangeRepository;
  /** In memory: one process uses the file, and its linking sessions live in memory too. */
  readonly linkPages = new MemoryLinkPageRepository();
  readonly inbound: SqliteInboundRepository;
  private readonly db: DatabaseSync;
  private readonly intake: IntakeJournal;
  private pendingAccepts: { input: AcceptInput; resolve: (outcome: AcceptOutcome) => void; reject: (error: unknown) => void }[] = [];
  private acceptFlush: NodeJS.Immediate | undefined;

  constructor(options: SqliteOptions) {
    this.db = openDatabase(options);
    const settle = () => this.intake.drain();
    this.webhook = new SqliteWebhookRepository(this.db);
    this.accounts = new SqliteAccountRepository(this.db);
    this.chats = new SqliteChatRepository(this.db);
    this.outbox = new SqliteOutboxRepository(this.db, settle, (accountId, now) => this.ownership.holderAt(accountId, now));
    this.quota = new SqliteQuotaRepository(this.db, settle);
    this.attempts = new SqliteAttemptRepository(this.db, settle);
    this.dryRun = new SqliteDryRunRepository(this.db);
    this.auth = new SqliteAuthRepository(this.db);
    this.feed = new SqliteFeedRepository(this.db, settle);
    this.webhookUrls = new SqliteWebhookUrlRepository(this.db);
    this.changes = new SqliteChangeRepository(this.db);
    this.inbound = new SqliteInboundRepository(this.db);
    this.intake = new IntakeJournal(this.db, this.outbox, this.attempts, this.quota);
    try {
      // Requests a crash left in the intake were accepted: move them now.
      this.intake.drain();
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /**
   * Group commit: requests that arrive in the same turn of the event loop (concurrent webhook calls)
   * are reserved in one transaction, so they share one WAL commit; each caller's promise resolves only
   * after that commit. A request alone is one atomic statement with no BEGIN/COMMIT at all.
   */
  accept(input: AcceptInput): Promise<AcceptOutcome> {
    return new Promise((resolve, reject) => {
      this.pendingAccepts.push({ input, resolve, reject });
      this.acceptFlush ??= setImmediate(() => this.flushAccepts());
    });
  }

  private flushAccepts(): void {
    clearImmediate(this.acceptFlush);
    this.acceptFlush = undefined;
    const batch = this.pendingAccepts;
    this.pendingAccepts = [];
    if (batch.length === 0) return;
    try {
      const alone = batch.length === 1 && !batch[0]!.input.attachments?.length;
      const outcomes = alone ? [this.acceptAlone(batch[0]!.input)] : this.acceptBatch(batch.map(({ input }) => input));
      batch.forEach(({ resolve }, i) => resolve(outcomes[i]!));
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
    if (this.intake.full) this.intake.drainSoon();
  }

  /** One request: the reservation is a single atomic statement. */
  private acceptAlone(input: AcceptInput): AcceptOutcome {
    const entry = { messages: input.messages, attempt: input.attempt, now: input.now };
    if (this.intake.reserve(input.periodKey, input.quota.allowance, input.units, entry)) return { accepted: true };
    return { accepted: false, available: this.quota.availableUnits(input.quota, input.periodKey, input.now), needed: input.units };
  }

  /**
   * Several requests in one IMMEDIATE transaction: no other writer can come between, so each period's
   * units are read once and counted down in order of arrival. They are written straight to messages and
   * attempts: the commit is shared, so the intake's small single-request commit would only add a copy.
   */
  private acceptBatch(inputs: readonly AcceptInput[]): AcceptOutcome[] {
    return inTransaction(this.db, () => {
      // Requests accepted alone before this batch go first, so the queue keeps arrival order.
      this.intake.drainWithin();
      const left = new Map<string, number>();
      const accepted: AcceptedRequest[] = [];
      const outcomes = inputs.map((input): AcceptOutcome => {
        const key = `${input.periodKey}\n${input.quota.allowance}`;
        const available = left.get(key) ?? this.quota.availableUnits(input.quota, input.periodKey, input.now);
        if (input.units > available) {
          left.set(key, available);
          return { accepted: false, available, needed: input.units };
        }
        left.set(key, available - input.units);
        accepted.push({ messages: input.messages, attempt: input.attempt, now: input.now, periodKey: input.periodKey, units: input.units });
        for (const attachment of input.attachments ?? []) this.outbox.insertAttachmentWithin(attachment);
        return { accepted: true };
      });
      this.intake.recordWithin(accepted);
      return outcomes;
    });
  }

  /**
   * SQLite's incremental vacuum: up to `maxPages` free pages are given back, the file shrinking at the
   * next checkpoint (WAL). A file without incremental vacuum is converted once (see CONVERT_UP_TO_BYTES).
   */
  async reclaimSpace(maxPages: number): Promise<number> {
    const pragma = <T>(name: string): T => Object.values(this.db.prepare(`PRAGMA ${name}`).get() as object)[0] as T;
    if (pragma<number>('freelist_count') === 0) return 0;
    if (pragma<number>('auto_vacuum') !== INCREMENTAL) {
      const kept = (pragma<number>('page_count') - pragma<number>('freelist_count')) * pragma<number>('page_size');
      if (kept > CONVERT_UP_TO_BYTES) return 0;
      // No transaction is open here (node:sqlite is synchronous, and VACUUM may not run inside one).
      this.db.exec('PRAGMA auto_vacuum = INCREMENTAL');
      this.db.exec('VACUUM');
      return pragma<number>('freelist_count');
    }
    this.db.exec(`PRAGMA incremental_vacuum(${Math.max(1, Math.floor(maxPages))})`);
    return pragma<number>('freelist_count');
  }

  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    try {
      this.flushAccepts();
      this.intake.close();
    } finally {
      // Closed whatever happened: a handle left open would keep the file's descriptors in this process.
      this.db.close();
    }
  }
}
