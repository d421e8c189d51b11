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

  -- Accepted requests land here first: one row, one page written, so the commit before the 200 answer
  -- stays small. A batched drain moves them into messages and attempts, where the indexes live.
  CREATE TABLE intake (
    seq INTEGER PRIMARY KEY,
    period_key TEXT NOT NULL,
    units INTEGER NOT NULL,
    payload TEXT NOT NULL
  );

  -- seq is a plain rowid: increasing as long as the newest row is never deleted, which the outbox never does.
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
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
    seq INTEGER PRIMARY KEY,
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
  -- No index on message_id: the table never holds more than 100 rows, and an index page per row would
  -- cost every accepted request more than a scan of 100 rows costs the rare outcome update.

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
  `
  -- Linked accounts' Baileys auth state, so a restart reconnects without linking again. Values are JSON
  -- written with Baileys' BufferJSON replacer; keys cover every signal key type (pre-key, session,
  -- sender-key, app-state-sync-key, lid-mapping, device-list, tctoken, identity-key...).
  CREATE TABLE auth_creds (
    account_id TEXT PRIMARY KEY,
    creds TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE auth_keys (
    account_id TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account_id, type, id)
  ) WITHOUT ROWID;

  -- What WhatsApp told us about a linked device that must outlive a restart: a pause (restriction,
  -- message cap) that must not be lifted by restarting, and when it logged the device out.
  CREATE TABLE device_state (
    account_id TEXT PRIMARY KEY,
    paused_until INTEGER,
    pause_reason TEXT,
    logged_out_at INTEGER
  );
  `,
  `
  -- Files an engine attached to a send (bytes, not a URL), kept until the message is sent or fails.
  CREATE TABLE attachments (
    message_id TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    mimetype TEXT NOT NULL
  );
  `,
  `
  -- The webhook's requests as flows see them (NewMessage.feed), and where each flow's reader has got to,
  -- so that what was accepted while a flow was redeployed or restarting is emitted afterwards.
  ALTER TABLE messages ADD COLUMN feed TEXT;
  CREATE TABLE feed_cursors (
    reader TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  `
  -- Where each active entry point (an n8n trigger) serves the webhook, so the URL can be handed out
  -- ready to paste. Templates carry ":token" in place of the secret, which stays in the webhook table
  -- alone: a rotation shows in the next read.
  CREATE TABLE webhook_urls (
    flow_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    label TEXT NOT NULL,
    url_template TEXT NOT NULL,
    dedicated_url_template TEXT,
    link_url_template TEXT,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (flow_id, node_id)
  );
  `,
  `
  -- The provider's own id of a message we sent, where it assigns one (the Cloud API's wamid; Baileys sends
  -- with ours, so this stays null and the index holds nothing for it): receipts name messages by it.
  ALTER TABLE messages ADD COLUMN provider_id TEXT;
  CREATE UNIQUE INDEX messages_provider ON messages (provider_id) WHERE provider_id IS NOT NULL;
  `,
  `
  -- The workspace's changes in order (ChangeRepository), for processes that did not make them. Only the
  -- newest CHANGES_KEPT rows stay: a reader further behind than that reads the store's own state instead.
  CREATE TABLE changes (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
  );
  `,
  `
  -- Received messages (InboundRepository), kept for a retention window: the durable feed the engines'
  -- triggers read by seq, and what a reply's quoted_message_id names. AUTOINCREMENT, unlike the plain rowid
  -- of messages and changes: pruning by age may delete the newest row, and a plain rowid would then hand
  -- its seq out again, behind a reader that has already passed it.
  CREATE TABLE inbound_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    id TEXT NOT NULL,
    chat_jid TEXT NOT NULL,
    at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    reference TEXT NOT NULL,
    -- The engine process whose connection received it (WorkspaceOptions.processTag), if it named one.
    via TEXT,
    UNIQUE (account_id, id)
  );
  -- A reply in thread: the received message it quotes (quoted_message_id).
  ALTER TABLE messages ADD COLUMN quoted_id TEXT;
  CREATE INDEX inbound_messages_id ON inbound_messages (id);
  CREATE INDEX inbound_messages_received ON inbound_messages (received_at);
  `,
];
