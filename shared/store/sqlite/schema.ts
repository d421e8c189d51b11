/**
 * The SQLite schema, as numbered migrations. `PRAGMA user_version` records the last one applied, so a
 * newer package upgrades an older store in place.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE webhook (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    rotated_at INTEGER NOT NULL
  );

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    phone TEXT UNIQUE,
    name TEXT,
    created_at INTEGER NOT NULL,
    connected_at INTEGER,
    active INTEGER NOT NULL
  );

  CREATE TABLE chats (
    chat_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    jid TEXT NOT NULL,
    name TEXT,
    is_group INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (account_id, jid)
  );

  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    part TEXT NOT NULL,
    recipient_field TEXT NOT NULL,
    recipient_value TEXT NOT NULL,
    jid TEXT,
    text TEXT,
    file_url TEXT,
    file_name TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    not_before INTEGER NOT NULL,
    sent_at INTEGER,
    period_key TEXT NOT NULL
  );
  -- The dispatcher's hot query: an account's oldest due queued message.
  CREATE INDEX messages_queue ON messages (account_id, status, seq);
  CREATE INDEX messages_sent ON messages (account_id, sent_at) WHERE sent_at IS NOT NULL;

  CREATE TABLE message_events (
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT
  );
  CREATE INDEX message_events_by_message ON message_events (message_id);

  CREATE TABLE quota_periods (
    period_key TEXT PRIMARY KEY,
    used INTEGER NOT NULL DEFAULT 0,
    extra INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE refunds (
    message_id TEXT PRIMARY KEY,
    period_key TEXT NOT NULL,
    units INTEGER NOT NULL,
    due_at INTEGER NOT NULL
  );
  CREATE INDEX refunds_due ON refunds (due_at);

  CREATE TABLE attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    remote_address TEXT,
    request TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    message_id TEXT,
    notes TEXT,
    outcome TEXT,
    outcome_at INTEGER
  );
  CREATE INDEX attempts_by_message ON attempts (message_id);

  -- What dry-run accounts "sent": keyed by message id, as WhatsApp dedupes a resend with the same id.
  CREATE TABLE dry_run_sent (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    jid TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT,
    file_name TEXT,
    mimetype TEXT,
    bytes INTEGER,
    first_at INTEGER NOT NULL,
    times INTEGER NOT NULL
  );
  `,
];
