import type { AcceptInput, AcceptOutcome, WorkspaceStore } from '../types';
import { AcceptBatcher } from './accept-batcher';
import { PostgresAccountRepository } from './account-repository';
import { PostgresAttemptRepository } from './attempt-repository';
import { PostgresAuthRepository } from './auth-repository';
import { PostgresLinkPageRepository } from './link-page-repository';
import { PostgresChangeRepository } from './change-repository';
import { PostgresChatRepository } from './chat-repository';
import { PgDatabase, type PostgresOptions } from './database';
import { PostgresDryRunRepository } from './dry-run-repository';
import { PostgresFeedRepository } from './feed-repository';
import { PostgresInboundRepository } from './inbound-repository';
import { PostgresOutboxRepository } from './outbox-repository';
import { PostgresOwnershipRepository } from './ownership-repository';
import { PostgresQuotaRepository } from './quota-repository';
import { PostgresWebhookRepository } from './webhook-repository';
import { PostgresWebhookUrlRepository } from './webhook-url-repository';

export type { PostgresOptions } from './database';
export { changesChannel } from './change-repository';

/**
 * The server store: one schema of a PostgreSQL database through node-postgres (pure JavaScript, no native
 * addon), shared by every process of a workspace (n8n's main, webhook and worker processes). Every
 * operation is one statement or one transaction, safe when several processes run it at once.
 *
 * The constructor connects nothing: the first operation creates or migrates the schema, and an
 * unreachable server makes operations reject (never crash the process). `PostgresStore.open` waits for
 * the schema before answering.
 */
export class PostgresStore implements WorkspaceStore {
  readonly webhook: PostgresWebhookRepository;
  readonly accounts: PostgresAccountRepository;
  readonly chats: PostgresChatRepository;
  readonly outbox: PostgresOutboxRepository;
  readonly quota: PostgresQuotaRepository;
  readonly attempts: PostgresAttemptRepository;
  readonly dryRun: PostgresDryRunRepository;
  readonly auth: PostgresAuthRepository;
  readonly feed: PostgresFeedRepository;
  readonly webhookUrls: PostgresWebhookUrlRepository;
  readonly ownership: PostgresOwnershipRepository;
  readonly changes: PostgresChangeRepository;
  readonly linkPages: PostgresLinkPageRepository;
  readonly inbound: PostgresInboundRepository;
  /** The schema this store's tables live in. */
  readonly schema: string;
  private readonly db: PgDatabase;
  private readonly intake: AcceptBatcher;

  constructor(options: PostgresOptions) {
    this.db = new PgDatabase(options);
    this.schema = this.db.schema.name;
    this.webhook = new PostgresWebhookRepository(this.db);
    this.accounts = new PostgresAccountRepository(this.db);
    this.chats = new PostgresChatRepository(this.db);
    this.outbox = new PostgresOutboxRepository(this.db);
    this.quota = new PostgresQuotaRepository(this.db);
    this.attempts = new PostgresAttemptRepository(this.db);
    this.dryRun = new PostgresDryRunRepository(this.db);
    this.auth = new PostgresAuthRepository(this.db);
    this.feed = new PostgresFeedRepository(this.db);
    this.webhookUrls = new PostgresWebhookUrlRepository(this.db);
    this.ownership = new PostgresOwnershipRepository(this.db);
    this.changes = new PostgresChangeRepository(this.db);
    this.linkPages = new PostgresLinkPageRepository(this.db);
    this.inbound = new PostgresInboundRepository(this.db);
    this.intake = new AcceptBatcher(this.db, this.outbox, this.attempts, this.quota);
  }

  /** A store whose schema is ready: rejects (and ends its pool) when the server cannot be reached. */
  static async open(options: PostgresOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.ready();
      return store;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /** Resolves once the schema exists and is migrated (operations wait for this on their own). */
  ready(): Promise<void> {
    return this.db.ready();
  }

  /** Reserve quota, queue the messages and log the attempt in one commit; concurrent calls share it. */
  accept(input: AcceptInput): Promise<AcceptOutcome> {
    return this.intake.accept(input);
  }

  /**
   * Nothing to do: deleted rows are dead tuples that autovacuum makes reusable, so the tables stop
   * growing at about the retention window's size; shrinking the files would take VACUUM FULL, which
   * locks each table for its whole rewrite (a maintenance window's job, not this process's).
   */
  async reclaimSpace(_maxPages: number): Promise<number> {
    return 0;
  }

  /** Commits requests still waiting for their batch, then ends the pool. */
  async close(): Promise<void> {
    try {
      await this.intake.close();
    } finally {
      await this.db.close();
    }
  }
}
