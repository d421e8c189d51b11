// n8n benchmark (issue 5): throughput and CPU milliseconds per request of our trigger, with each accepted
// message emitted into the workflow and with emission off, against n8n's own Webhook node ("Respond
// immediately"), all active in the same real n8n (scripts/n8n-install.sh) and loaded by the same generator
// (autocannon, in this process, loopback only) in one run. CPU is the n8n process's user+system time, from
// /proc. A target that starts an execution per request is timed until the last of those executions has
// finished (read from n8n's own database), since "Respond immediately" answers before the execution runs:
// counting answers alone would leave the execution's cost out. Usage: node bench/n8n.js (after a build), or
// through bench/run.js. BENCH_N8N_SECONDS sets a round's length for targets that start no execution
// (default 5); BENCH_N8N_REQUESTS the requests sent to the others (default 160).
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { DatabaseSync } = require('node:sqlite');
const { assertAll200, postAmount, postLoad } = require('./lib');
const { n8nEnv, n8nCli, freePort, startN8n } = require('../scripts/n8n-server.js');

const TOKEN = 'bench-n8n-token-0123456789';
const BODY = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'Your order #1234 has shipped.' });
const CONNECTIONS = 16;
const CLOCK_TICKS_PER_SECOND = 100;

const credential = {
  id: 'wahookBenchCred1',
  name: 'WhatsApp Workspace (bench)',
  type: 'whatsAppWorkspaceApi',
  // A quota nothing exhausts; default pacing (the dry-run account sends every ~2 s).
  data: { workspaceName: 'bench', quotaAllowance: 100000000, quotaPeriod: 'none', gapMinSeconds: 1.5, gapMaxSeconds: 2.5, dryRunPhones: '+15105566777', initialToken: TOKEN },
};

const webhookIds = {
  plain: 'b0000000-0000-4000-8000-00000000000a',
  each: 'b0000000-0000-4000-8000-00000000000b',
  none: 'b0000000-0000-4000-8000-00000000000c',
  portEach: 'b0000000-0000-4000-8000-00000000000d',
  portNone: 'b0000000-0000-4000-8000-00000000000e',
};

const workflow = (id, node) => ({ id, name: id, active: false, settings: { executionOrder: 'v1' }, nodes: [node], connections: {} });
const ourTrigger = (key, emission, dedicatedPort = 0) => ({
  id: `${webhookIds[key]}-node`,
  name: 'WhatsApp Inbound Webhook Trigger',
  type: 'CUSTOM.whatsAppTrigger',
  typeVersion: 1,
  position: [0, 0],
  webhookId: webhookIds[key],
  parameters: { path: `bench-${key}`, mode: 'queue', emission, emitStatus: false, dedicatedPort },
  credentials: { whatsAppWorkspaceApi: { id: credential.id, name: credential.name } },
});
const workflowsFor = (ports) => [
  workflow('wahookBenchPlain', {
    id: `${webhookIds.plain}-node`,
    name: 'Webhook',
    type: 'n8n-nodes-base.webhook',
    typeVersion: 2,
    position: [0, 0],
    webhookId: webhookIds.plain,
    parameters: { httpMethod: 'POST', path: 'bench-plain', responseMode: 'onReceived', options: {} },
  }),
  workflow('wahookBenchEach1', ourTrigger('each', 'each')),
  workflow('wahookBenchNone1', ourTrigger('none', 'none')),
  workflow('wahookBenchPortEach1', ourTrigger('portEach', 'each', ports.each)),
  workflow('wahookBenchPortNone1', ourTrigger('portNone', 'none', ports.none)),
];

/** User + system CPU time of a process so far, in milliseconds. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** One load round against `url`, with this benchmark's body and connection count. */
function load(url, seconds) {
  return postLoad(url, BODY, CONNECTIONS, seconds);
}

/**
 * Waits until the n8n process has been nearly idle for a moment (under 5% of a core over 400 ms), so
 * what one target leaves behind (V8 isolates being disposed, garbage collection) is not billed to the
 * next one. Gives up after 20 s.
 */
async function untilIdle(pid) {
  const deadline = Date.now() + 20_000;
  let before = cpuMs(pid);
  while (Date.now() < deadline) {
    await sleep(400);
    const now = cpuMs(pid);
    if (now - before < 20) return;
    before = now;
  }
}

/** The workflow each target's requests run, for the targets that start an execution per request. */
const EXECUTING = { plain: 'wahookBenchPlain', each: 'wahookBenchEach1', portEach: 'wahookBenchPortEach1' };

/** Counts the finished executions of a workflow in n8n's own SQLite database. */
function executionCounter(userFolder) {
  const db = new DatabaseSync(join(userFolder, '.n8n', 'database.sqlite'), { readOnly: true });
  db.exec('PRAGMA busy_timeout = 5000');
  const finished = db.prepare('SELECT count(*) AS n FROM execution_entity WHERE workflowId = ? AND finished = 1');
  const other = db.prepare("SELECT count(*) AS n FROM execution_entity WHERE workflowId = ? AND finished = 0 AND status NOT IN ('new', 'running')");
  return {
    finished: (workflowId) => Number(finished.get(workflowId).n),
    /** Executions that ended without finishing (errors, crashes): a measured round must have none. */
    failed: (workflowId) => Number(other.get(workflowId).n),
    close: () => db.close(),
  };
}

/** Polls until `workflowId` has `target` finished executions; the time is taken when the count is seen. */
async function untilFinished(counter, workflowId, target, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (counter.finished(workflowId) < target) {
    if (Date.now() > deadline) throw new Error(`${workflowId}: only ${counter.finished(workflowId)} of ${target} executions finished in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Both of n8n 2.40's expression engines: 'vm' (the default, a V8 isolate) and 'legacy'. n8n skips the
 * isolate during the webhook phase only for its own Webhook node, so a community trigger pays for one
 * on every call under 'vm'; the rows show what that costs.
 */
async function n8nThroughput() {
  const rows = [];
  for (const engine of (process.env.BENCH_N8N_ENGINES ?? 'vm,legacy').split(',')) rows.push(...(await n8nThroughputWith(engine)));
  return rows;
}

async function n8nThroughputWith(engine) {
  const seconds = Number(process.env.BENCH_N8N_SECONDS ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'wahook-bench-n8n-'));
  const userFolder = join(dir, 'n8n');
  let n8n;
  try {
    const port = await freePort();
    const dedicated = { each: await freePort(), none: await freePort() };
    const workflows = workflowsFor(dedicated);
    const env = n8nEnv({ userFolder, port, brokerPort: await freePort() });
    writeFileSync(join(dir, 'credentials.json'), JSON.stringify([credential]));
    writeFileSync(join(dir, 'workflows.json'), JSON.stringify(workflows));
    await n8nCli(env, ['import:credentials', `--input=${join(dir, 'credentials.json')}`]);
    await n8nCli(env, ['import:workflow', `--input=${join(dir, 'workflows.json')}`]);
    for (const { id } of workflows) await n8nCli(env, ['publish:workflow', `--id=${id}`]);
    n8n = await startN8n({ userFolder, port, extraEnv: { N8N_EXPRESSION_ENGINE: engine } });
    const urls = {
      plain: `${n8n.url}/webhook/bench-plain`,
      each: `${n8n.url}/webhook/${webhookIds.each}/bench-each/${TOKEN}`,
      none: `${n8n.url}/webhook/${webhookIds.none}/bench-none/${TOKEN}`,
      portEach: `http://127.0.0.1:${dedicated.each}/whatsapp/${TOKEN}`,
      portNone: `http://127.0.0.1:${dedicated.none}/whatsapp/${TOKEN}`,
    };
    const deadline = Date.now() + 60_000;
    for (const url of Object.values(urls)) {
      while ((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY }).catch(() => ({ status: 0 }))).status !== 200) {
        if (Date.now() > deadline) throw new Error(`${url} never answered 200:\n${n8n.output()}`);
        await sleep(250);
      }
    }

    const requests = Number(process.env.BENCH_N8N_REQUESTS ?? 160);
    const rounds = Number(process.env.BENCH_N8N_ROUNDS ?? 5);
    const counter = executionCounter(userFolder);
    const totals = Object.fromEntries(Object.keys(urls).map((name) => [name, { ok: 0, seconds: 0, cpu: 0 }]));
    const add = (name, ok, seconds, cpu) => {
      totals[name].ok += ok;
      totals[name].seconds += seconds;
      totals[name].cpu += cpu;
    };
    try {
      for (const [name, url] of Object.entries(urls)) {
        const workflowId = EXECUTING[name];
        const warmFrom = workflowId ? counter.finished(workflowId) : 0;
        const warm = assertAll200(`warm-up (${name})`, await postAmount(url, BODY, CONNECTIONS, CONNECTIONS * 4));
        if (workflowId) await untilFinished(counter, workflowId, warmFrom + warm, 300_000);
      }
      // Rounds interleave the targets, each round starting one target further on, so a slow spell of the
      // shared machine falls on all of them alike; each target starts with n8n idle.
      const targets = Object.entries(urls);
      for (let round = 0; round < rounds; round++) {
        for (const [name, url] of [...targets.slice(round % targets.length), ...targets.slice(0, round % targets.length)]) {
          await untilIdle(n8n.child.pid);
          const workflowId = EXECUTING[name];
          const cpuBefore = cpuMs(n8n.child.pid);
          const started = performance.now();
          if (workflowId) {
            // `requests` calls, timed until every execution they started has finished.
            const before = counter.finished(workflowId);
            const ok = assertAll200(name, await postAmount(url, BODY, CONNECTIONS, requests));
            await untilFinished(counter, workflowId, before + ok, 600_000);
            add(name, ok, (performance.now() - started) / 1000, cpuMs(n8n.child.pid) - cpuBefore);
            if (counter.failed(workflowId) !== 0) throw new Error(`${name}: ${counter.failed(workflowId)} executions did not finish`);
          } else {
            const ok = assertAll200(name, await load(url, seconds));
            add(name, ok, (performance.now() - started) / 1000, cpuMs(n8n.child.pid) - cpuBefore);
          }
        }
      }
    } catch (error) {
      // A non-2xx answer or a failed execution: what n8n logged meanwhile (uncaught errors, warnings) says why.
      error.message += `\nn8n's output, last 4000 characters:\n${n8n.output().slice(-4000)}`;
      throw error;
    } finally {
      counter.close();
    }
    const measured = Object.fromEntries(Object.entries(totals).map(([name, t]) => [name, { rps: t.ok / t.seconds, cpuPerRequest: t.cpu / t.ok }]));

    const cell = (name) => `${Math.round(measured[name].rps)}/s at ${measured[name].cpuPerRequest.toFixed(2)} ms CPU each`;
    const ratio = (name) => measured[name].rps / measured.plain.rps;
    const each = ratio('each');
    const none = ratio('none');
    const label = `same n8n 2.40.7, N8N_EXPRESSION_ENGINE=${engine}${engine === 'vm' ? ' (default)' : ''}, autocannon ${CONNECTIONS} connections, ${rounds} interleaved rounds of ${requests} requests (executions timed to their end) or ${seconds} s (no execution)`;
    // Through n8n's own route, n8n takes a V8 isolate for a community trigger before our code runs (it
    // skips that only for its own Webhook node): the route rows show that cost; the goals are the port's.
    const routeNote = 'reported: through n8n\'s route, n8n takes a V8 isolate per call before our code runs';
    return [
      {
        name: `n8n: our trigger (Dedicated Port) emitting each message vs n8n's Webhook node, Respond immediately (${label})`,
        figure: `${cell('portEach')} vs ${cell('plain')} (${ratio('portEach').toFixed(2)}×)`,
        goal: '≥ 1.0×',
        met: ratio('portEach') >= 1.0,
      },
      {
        name: `n8n: our trigger (Dedicated Port) with emission off vs n8n's Webhook node (${label})`,
        figure: `${cell('portNone')} vs ${cell('plain')} (${ratio('portNone').toFixed(1)}×)`,
        goal: '≥ 100×',
        met: ratio('portNone') >= 100,
      },
      {
        name: `n8n: our trigger through n8n's webhook route, emitting each message, vs n8n's Webhook node (${label})`,
        figure: `${cell('each')} vs ${cell('plain')} (${each.toFixed(2)}×)`,
        goal: engine === 'vm' ? routeNote : '≥ 1.0×',
        met: engine === 'vm' ? undefined : each >= 1.0,
      },
      {
        name: `n8n: our trigger through n8n's webhook route, emission off, vs n8n's Webhook node (${label})`,
        figure: `${cell('none')} vs ${cell('plain')} (${none.toFixed(1)}×)`,
        goal: routeNote.replace('a V8 isolate per call', engine === 'vm' ? 'a V8 isolate per call' : 'the workflow from its database per call'),
        met: undefined,
      },
    ];
  } finally {
    await n8n?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { n8nThroughput };

if (require.main === module) {
  n8nThroughput().then(
    (rows) => console.log(rows),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
