// Small helpers shared by the benchmarks: timing, percentiles, temp stores.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

function tempStorePath(name) {
  const dir = mkdtempSync(join(tmpdir(), 'wahook-bench-'));
  return { path: join(dir, `${name}.sqlite`), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` `count` times (awaiting each) and returns each call's duration in microseconds. */
async function timeEach(count, fn) {
  const durations = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    durations[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  return durations;
}

function percentile(values, p) {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function mean(values) {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

const mb = (bytes) => bytes / 1024 / 1024;

module.exports = { tempStorePath, timeEach, percentile, mean, mb };

/** How many non-2xx answers a load run keeps (status, body, headers, when), so a failure says what came back. */
const KEPT_ANSWERS = 20;

/**
 * Runs autocannon with one POST of `body` as JSON, keeping the first non-2xx answers it gets (status,
 * body, headers, ms since the start) in `result.non2xxAnswers`; `result.statusCodeStats` counts every
 * status. Loopback only. The per-response hook costs the generator about 1 µs of CPU per response, ~5%
 * (against a bare server: 16.4 vs 15.6 and 20.8 vs 19.9 µs, medians of 5 runs of 40,000), and every
 * target of a comparison pays it alike.
 */
function runPost(url, body, options) {
  const autocannon = require('autocannon');
  const started = performance.now();
  const kept = [];
  const onResponse = (status, answer, _context, headers) => {
    if ((status < 200 || status > 299) && kept.length < KEPT_ANSWERS) {
      kept.push({ status, at: Math.round(performance.now() - started), body: String(answer).slice(0, 500), headers });
    }
  };
  const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body, onResponse };
  return new Promise((done, fail) => {
    autocannon({ url, ...options, requests: [request] }, (error, result) => {
      if (error) return fail(error);
      result.non2xxAnswers = kept;
      result.elapsedMs = Math.round(performance.now() - started);
      done(result);
    });
  });
}

/** POSTs `body` as JSON to `url` from `connections` connections for `seconds` (autocannon, loopback only). */
function postLoad(url, body, connections, seconds) {
  return runPost(url, body, { connections, duration: seconds });
}

/** The statuses of a run and the non-2xx answers it kept, as text for an error message. */
function describeAnswers(result) {
  const counts = Object.entries(result.statusCodeStats ?? {})
    .map(([status, { count }]) => `${status} × ${count}`)
    .join(', ');
  const kept = (result.non2xxAnswers ?? []).map(
    (answer) => `  ${answer.status} at ${answer.at} ms (run took ${result.elapsedMs} ms): ${answer.body} ${JSON.stringify(answer.headers)}`,
  );
  return [`statuses: ${counts || 'none'}`, ...(kept.length > 0 ? [`first ${kept.length} non-2xx answers:`, ...kept] : [])].join('\n');
}

/** The count of 2xx answers, after checking that every answer was one. */
function assertAll200(name, result) {
  const ok = result['2xx'];
  if (result.non2xx !== 0 || result.errors !== 0 || result.timeouts !== 0 || ok === 0) {
    throw new Error(
      `${name}: ${ok} × 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts: every response must be 200\n${describeAnswers(result)}`,
    );
  }
  return ok;
}

/** POSTs `body` as JSON to `url` exactly `amount` times from `connections` connections (autocannon). */
function postAmount(url, body, connections, amount) {
  return runPost(url, body, { connections, amount });
}

module.exports.postLoad = postLoad;
module.exports.postAmount = postAmount;
module.exports.assertAll200 = assertAll200;
module.exports.describeAnswers = describeAnswers;
