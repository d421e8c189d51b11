import type { DatabaseSync } from 'node:sqlite';
import type { AcceptInput, AcceptOutcome, WorkspaceStore } from '../types';
import { inTransaction, openDatabase, type SqliteOptions } from './database';
import { SqliteAccountRepository } from './account-repository';
import { SqliteAttemptRepository } from './attempt-repository';
import { SqliteChatRepository } from './chat-repository';
import { SqliteDryRunRepository } from './dry-run-repository';
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
  private readonly db: DatabaseSync;

  constructor(options: SqliteOptions) {
    this.db = openDatabase(options);
    this.webhook = new SqliteWebhookRepository(this.db);
    this.accounts = new SqliteAccountRepository(this.db);
    this.chats = new SqliteChatRepository(this.db);
    this.outbox = new SqliteOutboxRepository(this.db);
    this.quota = new SqliteQuotaRepository(this.db);
    this.attempts = new SqliteAttemptRepository(this.db);
    this.dryRun = new SqliteDryRunRepository(this.db);
  }

  async accept(input: AcceptInput): Promise<AcceptOutcome> {
    return inTransaction(this.db, () => {
      const reservation = this.quota.reserveWithin(input.quota, input.periodKey, input.units, input.now);
      if (!reservation.ok) return { accepted: false, available: reservation.available, needed: input.units };
      for (const message of input.messages) this.outbox.insertWithin(message, input.periodKey, input.now);
      return { accepted: true, attemptSeq: this.attempts.addWithin(input.attempt) };
    });
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}
