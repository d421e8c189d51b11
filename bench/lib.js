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
