import type { DatabaseSync } from 'node:sqlite';
import type { AcceptInput, AcceptOutcome, WorkspaceStore } from '../types';
import { inTransaction, openDatabase, type SqliteOptions } from './database';
import { SqliteAccountRepository } from './account-repository';
import { SqliteAttemptRepository } from './attempt-repository';
import { SqliteAuthRepository } from './auth-repository';
import { SqliteChatRepository } from './chat-repository';
import { SqliteDryRunRepository } from './dry-run-repository';
import { IntakeJournal } from './intake';
import { SqliteOutboxRepository } from './outbox-repository';
import { SqliteQuotaRepository } from './quota-repository';
import { SqliteWebhookRepository } from './webhook-repository';

export type { Durability, SqliteOptions } from './database';

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
  private readonly db: DatabaseSync;
  private readonly intake: IntakeJournal;

  constructor(options: SqliteOptions) {
    this.db = openDatabase(options);
    const settle = () => this.intake.drain();
    this.webhook = new SqliteWebhookRepository(this.db);
    this.accounts = new SqliteAccountRepository(this.db);
    this.chats = new SqliteChatRepository(this.db);
    this.outbox = new SqliteOutboxRepository(this.db, settle);
    this.quota = new SqliteQuotaRepository(this.db, settle);
    this.attempts = new SqliteAttemptRepository(this.db, settle);
    this.dryRun = new SqliteDryRunRepository(this.db);
    this.auth = new SqliteAuthRepository(this.db);
    this.intake = new IntakeJournal(this.db, this.outbox, this.attempts, this.quota);
    // Requests a crash left in the intake were accepted: move them now.
    this.intake.drain();
  }

  async accept(input: AcceptInput): Promise<AcceptOutcome> {
    const entry = { messages: input.messages, attempt: input.attempt, now: input.now };
    const attachments = input.attachments ?? [];
    // Without attachments the reservation is a single atomic statement; with them, one transaction.
    const reserved =
      attachments.length === 0
        ? this.intake.reserve(input.periodKey, input.quota.allowance, input.units, entry)
        : inTransaction(this.db, () => {
            if (!this.intake.reserve(input.periodKey, input.quota.allowance, input.units, entry)) return false;
            for (const attachment of attachments) this.outbox.insertAttachmentWithin(attachment);
            return true;
          });
    if (!reserved) {
      return { accepted: false, available: this.quota.availableUnits(input.quota, input.periodKey, input.now), needed: input.units };
    }
    if (this.intake.full) this.intake.drain();
    return { accepted: true };
  }

  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    this.intake.close();
    this.db.close();
  }
}
