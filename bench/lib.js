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

/** POSTs `body` as JSON to `url` from `connections` connections for `seconds` (autocannon, loopback only). */
function postLoad(url, body, connections, seconds) {
  const autocannon = require('autocannon');
  return new Promise((done, fail) => {
    autocannon(
      { url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration: seconds },
      (error, result) => (error ? fail(error) : done(result)),
    );
  });
}

/** The count of 2xx answers, after checking that every answer was one. */
function assertAll200(name, result) {
  const ok = result['2xx'];
  if (result.non2xx !== 0 || result.errors !== 0 || result.timeouts !== 0 || ok === 0) {
    throw new Error(`${name}: ${ok} × 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts: every response must be 200`);
  }
  return ok;
}

/** POSTs `body` as JSON to `url` exactly `amount` times from `connections` connections (autocannon). */
function postAmount(url, body, connections, amount) {
  const autocannon = require('autocannon');
  return new Promise((done, fail) => {
    autocannon(
      { url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, amount },
      (error, result) => (error ? fail(error) : done(result)),
    );
  });
}

module.exports.postLoad = postLoad;
module.exports.postAmount = postAmount;
module.exports.assertAll200 = assertAll200;
