// Node-RED benchmark (issue 4): requests per second and p99 latency of our webhook (validate, resolve,
// reserve quota, durable SQLite commit, then 200) against a plain `http in` → `http response` flow, both
// deployed in the same real Node-RED process and loaded by the same generator (autocannon, in this
// process, loopback only), alternating rounds in one run. Usage: node bench/node-red.js (after a build),
// or through bench/run.js. BENCH_NODE_RED_SECONDS sets a round's length (default 5; two rounds per side).
// BENCH_NODE_RED_CPU_PROF=<dir> runs Node-RED under --cpu-prof and leaves the profile in <dir>.
const { spawn } = require('node:child_process');
const { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { assertAll200, postLoad } = require('./lib');

const ROOT = resolve(__dirname, '..');
const PACKAGE = require(join(ROOT, 'package.json')).name;
const TOKEN = 'bench-token-0123456789abcdef';
const BODY = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'Your order #1234 has shipped.' });
const CONNECTIONS = 32;

const FLOWS = [
  { id: 'bench-tab', type: 'tab', label: 'bench' },
  {
    id: 'bench-ws',
    type: 'whatsapp-workspace',
    name: 'bench workspace',
    storeName: 'bench',
    // A quota nothing exhausts, so every call is accepted; default pacing (the dry-run account sends every ~2 s).
    quotaAllowance: '100000000',
    quotaPeriod: 'none',
    refundDelayMinutes: '0',
    gapMinSeconds: '1.5',
    gapMaxSeconds: '2.5',
    capPerHour: '',
    capPerDay: '',
    allowPrivateFileUrls: false,
    dryRunPhones: '+15105566777',
    initialToken: TOKEN,
  },
  { id: 'bench-webhook', type: 'whatsapp-webhook', z: 'bench-tab', name: '', workspace: 'bench-ws', x: 200, y: 80, wires: [[], []] },
  { id: 'plain-in', type: 'http in', z: 'bench-tab', name: '', url: '/plain', method: 'post', upload: false, swaggerDoc: '', x: 150, y: 160, wires: [['plain-out']] },
  { id: 'plain-out', type: 'http response', z: 'bench-tab', name: '', statusCode: '200', headers: {}, x: 350, y: 160, wires: [] },
];

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

async function startNodeRed(userDir, nodeArgs) {
  const installed = join(userDir, 'node_modules', ...PACKAGE.split('/'));
  mkdirSync(join(installed, '..'), { recursive: true });
  symlinkSync(ROOT, installed, 'dir');
  const port = await freePort();
  const settingsFile = join(userDir, 'settings.js');
  writeFileSync(
    settingsFile,
    `module.exports = ${JSON.stringify({ uiHost: '127.0.0.1', uiPort: port, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'warn' } } })};\n`,
  );
  const child = spawn(process.execPath, [...nodeArgs, require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', settingsFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: userDir,
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((done) => child.once('exit', done));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`${url}/settings`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Node-RED did not start:\n${output}`);
    }
    await sleep(100);
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { url, stop, output: () => output };
}

/** One load round against `url`, with this benchmark's body and connection count. */
function load(url, seconds) {
  return postLoad(url, BODY, CONNECTIONS, seconds);
}

async function nodeRedThroughput() {
  const seconds = Number(process.env.BENCH_NODE_RED_SECONDS ?? 5);
  const profileDir = process.env.BENCH_NODE_RED_CPU_PROF;
  const userDir = mkdtempSync(join(tmpdir(), 'wahook-bench-nr-'));
  const red = await startNodeRed(userDir, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : []);
  try {
    const deployed = await fetch(`${red.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' },
      body: JSON.stringify({ flows: FLOWS }),
    });
    if (!deployed.ok) throw new Error(`deploy failed: ${deployed.status} ${await deployed.text()}`);
    const errors = (await (await fetch(`${red.url}/nodes`, { headers: { accept: 'application/json' } })).json()).filter((set) => set.err);
    if (errors.length > 0) throw new Error(`node load errors: ${JSON.stringify(errors)}`);
    const ours = `${red.url}/whatsapp/${TOKEN}`;
    const plain = `${red.url}/plain`;
    const deadline = Date.now() + 10_000;
    while ((await fetch(ours, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })).status !== 200) {
      if (Date.now() > deadline) throw new Error(`the webhook never answered 200:\n${red.output()}`);
      await sleep(50);
    }
    let accepted = 1;

    // Warm-up (JIT, SQLite page cache), then alternating rounds so the shared machine's drift hits both.
    accepted += assertAll200('warm-up (ours)', await load(ours, 2));
    assertAll200('warm-up (plain)', await load(plain, 2));
    const totals = { ours: { requests: 0, p99: [] }, plain: { requests: 0, p99: [] } };
    for (let round = 0; round < 2; round++) {
      for (const [name, url] of [['ours', ours], ['plain', plain]]) {
        const result = await load(url, seconds);
        const ok = assertAll200(name, result);
        if (name === 'ours') accepted += ok;
        totals[name].requests += ok;
        totals[name].p99.push(result.latency.p99);
      }
    }
    // Every 200 was a committed acceptance: the quota used covers every 200 counted, plus at most the
    // requests in flight when each of our 3 load runs stopped (committed, but not counted by autocannon).
    const state = await (await fetch(`${red.url}/whatsapp-workspace/bench-ws/state`)).json();
    if (state.quota.used < accepted || state.quota.used > accepted + 3 * CONNECTIONS) {
      throw new Error(`quota used ${state.quota.used}, but ${accepted} calls were answered 200`);
    }

    const rps = (side) => totals[side].requests / (2 * seconds);
    const p99 = (side) => Math.max(...totals[side].p99);
    const ratio = rps('ours') / rps('plain');
    return [
      {
        name: `Node-RED: our webhook vs plain \`http in\` → \`http response\` (same process, autocannon ${CONNECTIONS} connections, 2 × ${seconds} s each)`,
        figure: `${Math.round(rps('ours'))} vs ${Math.round(rps('plain'))} requests/s (${ratio.toFixed(2)}×)`,
        goal: '≥ 0.8× the plain flow',
        met: ratio >= 0.8,
      },
      {
        name: 'Node-RED: p99 latency, our webhook vs the plain flow (worst round)',
        figure: `${p99('ours')} ms vs ${p99('plain')} ms`,
        goal: 'reported (every response 200, every 200 committed)',
        met: true,
      },
    ];
  } finally {
    await red.stop();
    rmSync(userDir, { recursive: true, force: true });
  }
}

module.exports = { nodeRedThroughput };

if (require.main === module) {
  nodeRedThroughput().then(
    (rows) => {
      for (const row of rows) console.log(`${row.name}: ${row.figure} (goal ${row.goal}: ${row.met ? 'met' : 'NOT met'})`);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
