// A bounded store (issue 14): a million messages accepted and sent over 60 simulated days with the default
// retention (30 days), the store file's size, and what a prune round costs the accept path.
const { statSync } = require('node:fs');
const { Workspace, SqliteStore, parseSendRequest, DryRunTransport } = require('../dist/shared');
const { Retention } = require('../dist/shared/workspace/retention');
const { tempStorePath, timeEach, percentile, mb } = require('./lib');

const DAY_MS = 24 * 3_600_000;
/** Rounds of the accept-latency comparison, each pruning one more simulated day. */
const ROUNDS = 8;
const QUIET_PER_ROUND = 20_000;
const START = Date.UTC(2026, 0, 1);
const BODY = Buffer.from(JSON.stringify({ action: 'send', phone: '+14151231234', text: 'Your order #1234 has shipped.' }));
const ACCOUNT = { id: 'offline', kind: 'baileys', phone: '15105566777', name: null, createdAt: 1, connectedAt: 1, active: true };

/** A transport that never becomes ready: what the bench accepts stays queued (its own history is bulk-written). */
class OfflineTransport extends DryRunTransport {
  isReady() {
    return false;
  }
}

/**
 * One simulated day of sent history, written in bulk into the store's tables (as queue-with-history does),
 * each message as a real send leaves it: delivered, with its sending, sent and delivered events.
 */
function writeDay(db, day, count, first) {
  const insert = db.prepare(
    `INSERT INTO messages (id, request_id, account_id, part, recipient_field, recipient_value, jid, text, status,
       attempts, created_at, updated_at, not_before, sent_at, period_key, feed)
     VALUES (?1, ?1, 'acc', 'text', 'phone', ?2, ?3, ?4, 'delivered', 1, ?5, ?6, ?5, ?6, ?7, ?8)`,
  );
  const event = db.prepare('INSERT INTO message_events (message_id, status, at, detail) VALUES (?, ?, ?, ?)');
  const periodKey = new Date(START + day * DAY_MS).toISOString().slice(0, 10);
  db.exec('BEGIN');
  for (let i = 0; i < count; i++) {
    const n = first + i;
    const id = `3EB0${n.toString(16).toUpperCase().padStart(18, '0')}`;
    const at = START + day * DAY_MS + Math.floor((i * DAY_MS) / count);
    const phone = `1415${String(n % 1_000_000).padStart(7, '0')}`;
    const text = `Your order #${n} has shipped. Track it at https://shop.example/t/${n.toString(36)}`;
    const feed = JSON.stringify({ action: 'send', phone: `+${phone}`, via: 'webhook' });
    insert.run(id, phone, `${phone}@s.whatsapp.net`, text, at, at + 4000, periodKey, feed);
    event.run(id, 'sending', at + 2000, 'attempt 1');
    event.run(id, 'sent', at + 2500, null);
    event.run(id, 'delivered', at + 4000, null);
  }
  db.exec('COMMIT');
}

/** The file's size once the WAL is checkpointed into it (what the disk holds for the store). */
function fileBytes(db, path) {
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  return statSync(path).size + statSync(`${path}-wal`).size;
}

async function retention60Days(total = 1_000_000, days = 60, keepDays = 30) {
  const place = tempStorePath('retention');
  const sqlite = new SqliteStore({ path: place.path });
  await sqlite.accounts.put(ACCOUNT);
  let now = START;
  const workspace = await Workspace.open({
    store: sqlite,
    now: () => now,
    quota: { period: 'none', allowance: 100_000_000 },
    retention: { keepMs: keepDays * DAY_MS },
    openTransport: (account) => new OfflineTransport(account.id, account.phone, sqlite.dryRun, () => now),
  });
  const db = sqlite.db;
  const source = { remoteAddress: '127.0.0.1', request: BODY.toString() };
  const acceptOnce = async () => {
    const result = await workspace.accept(parseSendRequest(BODY).value, source);
    if (!result.ok) throw new Error(result.rejection.message);
  };
  const perDay = Math.round(total / days);
  const started = performance.now();
  let written = 0;
  let removed = 0;
  let sizeAt30 = 0;
  let roundsMs = 0;
  // Day by day: a day's history, then the round that would have run through it, with the workspace's
  // retention but pausing only a turn between batches (a simulated day needs no room for accepts).
  const simulation = new Retention({ store: sqlite, now: () => now, reportError: (error) => { throw error; } }, { keepMs: keepDays * DAY_MS, pauseFactor: 0 });
  for (let day = 0; day < days; day++) {
    await sqlite.outbox.countWaiting();
    writeDay(db, day, perDay, written);
    written += perDay;
    now = START + (day + 1) * DAY_MS;
    const roundStart = performance.now();
    const round = await simulation.round();
    roundsMs += performance.now() - roundStart;
    removed += round.messages;
    if (day === keepDays - 1) sizeAt30 = fileBytes(db, place.path);
  }
  const sizeAt60 = fileBytes(db, place.path);
  const simulatedMs = performance.now() - started;
  const prunedAt60 = removed;
  const keptAt60 = (await sqlite.outbox.countByStatus()).delivered ?? 0;

  // Accept latency while the workspace's own round (default pacing: each batch followed by a pause 10x its
  // own time) prunes a day's worth vs with no round, sequential accepts, alternating.
  const quiet = [];
  const busy = [];
  let worstBusy = 0;
  let batches = 0;
  for (let r = 0; r < ROUNDS; r++) {
    await sqlite.outbox.countWaiting(); // drains the intake before the bulk write, so seq follows time
    writeDay(db, days + r, perDay, written);
    written += perDay;
    now = START + (days + r + 1) * DAY_MS;
    quiet.push(...(await timeEach(QUIET_PER_ROUND, acceptOnce)));
    let done = false;
    const pruning = workspace.retention.round().then((result) => {
      done = true;
      return result;
    });
    while (!done) {
      const [us] = await timeEach(1, acceptOnce);
      busy.push(us);
      worstBusy = Math.max(worstBusy, us);
    }
    batches += (await pruning).batches;
  }
  await workspace.close();
  place.cleanup();

  const p99 = (values) => percentile(values, 99);
  const ratio = sizeAt60 / sizeAt30;
  const p99Ratio = p99(busy) / p99(quiet);
  const scale = total === 1_000_000 ? '1,000,000' : `${total.toLocaleString('en')} (scaled down)`;
  return [
    {
      name: `store file with the default retention (${keepDays} days): ${scale} messages accepted and sent over ${days} simulated days (${perDay.toLocaleString('en')} a day bulk-written as delivered, with 3 events each; one round per simulated day)`,
      figure: `${mb(sizeAt60).toFixed(0)} MB at day ${days} vs ${mb(sizeAt30).toFixed(0)} MB at day ${keepDays} (${ratio.toFixed(2)}×); ${prunedAt60.toLocaleString('en')} pruned, ${keptAt60.toLocaleString('en')} kept; simulation ${(simulatedMs / 1000).toFixed(0)} s, rounds ${(roundsMs / 1000).toFixed(0)} s of it`,
      goal: '≤ 1.2×',
      met: ratio <= 1.2,
    },
    {
      name: `accept p99 while a prune round runs (the workspace's own round pruning a day's ${perDay.toLocaleString('en')} messages of ${keptAt60.toLocaleString('en')}: ${batches} batches of 500 over ${ROUNDS} rounds, each batch followed by a pause 10× its time) vs with none, sequential accepts`,
      figure: `p99 ${p99(busy).toFixed(0)} vs ${p99(quiet).toFixed(0)} µs (${p99Ratio.toFixed(2)}×) over ${busy.length.toLocaleString('en')} vs ${quiet.length.toLocaleString('en')} accepts; slowest ${(worstBusy / 1000).toFixed(1)} vs ${(quiet.reduce((a, b) => Math.max(a, b), 0) / 1000).toFixed(1)} ms`,
      goal: '≤ 1.2×',
      met: p99Ratio <= 1.2,
    },
  ];
}

module.exports = { retention60Days };
