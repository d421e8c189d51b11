// The floor under the accept path: what its two irreducible halves cost when each is as lean as we could
// make it. Used by the accept-vs-insert benchmark to show how far any design can get, not by the product.
const { DatabaseSync } = require('node:sqlite');

const ACCOUNT_ID = 'acct-1';
const PERIOD_KEY = 'all';
const ALLOWANCE = 1e9;
/** Index and attempt-log upkeep is batched, as the product's drain batches it. */
const BATCH = 64;

/**
 * The leanest durable write we found that still keeps the contract: one final message row per accepted
 * request (no journal, no later copy), its quota checked in the same statement as a running total kept
 * on the newest row (no ledger row written), the request text on the row so the attempt log can be
 * built from it later. Nothing indexed at acceptance: the id and queue indexes are partial indexes that
 * a row joins once a batch of 64 flips its flag, in the same commit that copies the attempt rows.
 * Same page size and journal settings as the product's store.
 */
function leanestStoreWrite(path) {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;');
  db.exec(`
    CREATE TABLE messages (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL, account_id TEXT NOT NULL, recipient_field TEXT NOT NULL,
      recipient_value TEXT NOT NULL, text TEXT, status TEXT NOT NULL, created_at INTEGER NOT NULL,
      period_key TEXT NOT NULL, units INTEGER NOT NULL, used_after INTEGER NOT NULL,
      indexed INTEGER NOT NULL DEFAULT 0, remote_address TEXT, request TEXT);
    CREATE UNIQUE INDEX messages_id ON messages (id) WHERE indexed = 1;
    CREATE INDEX messages_queue ON messages (account_id, status, seq) WHERE indexed = 1;
    CREATE TABLE quota_periods (period_key TEXT PRIMARY KEY, refunded INTEGER NOT NULL DEFAULT 0, extra INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE attempts (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, remote_address TEXT, request TEXT NOT NULL,
      status INTEGER NOT NULL, response TEXT NOT NULL, message_id TEXT);`);
  const insert = db.prepare(`
    INSERT INTO messages (id, account_id, recipient_field, recipient_value, text, status, created_at, period_key, units, used_after, remote_address, request)
    SELECT ?1, ?7, 'phone', ?8, ?9, 'queued', ?2, ?3, ?4, spent.units + ?4, '127.0.0.1', ?6
    FROM (SELECT coalesce((SELECT CASE WHEN period_key = ?3 THEN used_after END FROM messages ORDER BY seq DESC LIMIT 1), 0) AS units) spent
    WHERE ?5 + coalesce((SELECT extra + refunded FROM quota_periods WHERE period_key = ?3), 0) - spent.units >= ?4`);
  const copyAttempts = db.prepare(`
    INSERT INTO attempts (at, remote_address, request, status, response, message_id)
    SELECT created_at, remote_address, request, 200, '{"status":"ok","message_id":"wa_backend:' || id || '"}', id FROM messages WHERE seq > ?`);
  const index = db.prepare('UPDATE messages SET indexed = 1, request = NULL WHERE seq > ?');
  const trimAttempts = db.prepare('DELETE FROM attempts WHERE seq <= (SELECT max(seq) FROM attempts) - 100');
  const newest = db.prepare('SELECT max(seq) AS seq FROM messages');
  let indexedUpTo = 0;
  let written = 0;
  let counter = 0;
  return {
    /** One accepted request's write; `payload` is the parsed request, `raw` the body as received. */
    write(payload, raw) {
      const id = `3EB0${(++counter).toString(16).toUpperCase().padStart(18, '0')}`;
      if (insert.run(id, Date.now(), PERIOD_KEY, 1, ALLOWANCE, raw, ACCOUNT_ID, payload.phone, payload.text).changes !== 1) {
        throw new Error('quota refused a request it should cover');
      }
      if (++written % BATCH !== 0) return;
      db.exec('BEGIN IMMEDIATE');
      copyAttempts.run(indexedUpTo);
      index.run(indexedUpTo);
      trimAttempts.run();
      indexedUpTo = newest.get().seq;
      db.exec('COMMIT');
    },
    /** Throws unless every write landed and every full batch was indexed and logged, so the floor measured real work. */
    verify() {
      const { rows, indexed } = db.prepare('SELECT count(*) AS rows, sum(indexed) AS indexed FROM messages').get();
      const { logged } = db.prepare('SELECT count(*) AS logged FROM attempts').get();
      const batched = written - (written % BATCH);
      if (rows !== written || indexed !== batched || logged !== Math.min(100, batched)) {
        throw new Error(`leanest write: ${rows} rows, ${indexed} indexed, ${logged} logged after ${written} writes`);
      }
    },
    close: () => db.close(),
  };
}

/**
 * Makes `workspace` a measure of the request handling alone: parse, validate, resolve, build the messages
 * and their ids, emit the events, with the store's accept answering at once and writing nothing.
 */
function withoutStoreWrites(workspace) {
  workspace.store.accept = async () => ({ accepted: true });
  return workspace;
}

module.exports = { leanestStoreWrite, withoutStoreWrites };
