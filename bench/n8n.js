// n8n benchmark (issue 5): requests per second and CPU milliseconds per request of our trigger, with each
// accepted message emitted into the workflow and with emission off, against n8n's own Webhook node
// ("Respond immediately"), all three active in the same real n8n (scripts/n8n-install.sh) and loaded by
// the same generator (autocannon, in this process, loopback only) in one run. CPU is the n8n process's
// user+system time over each load round, from /proc. Usage: node bench/n8n.js (after a build), or through
// bench/run.js. BENCH_N8N_SECONDS sets a round's length (default 5).
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { assertAll200, postLoad } = require('./lib');
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
    // Emitting each message from the dedicated port is not measured: its executions queue up behind the
    // answers, so a round's CPU would leave most of their cost out.
    const dedicated = { none: await freePort() };
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
      portNone: `http://127.0.0.1:${dedicated.none}/whatsapp/${TOKEN}`,
    };
    const deadline = Date.now() + 60_000;
    for (const url of Object.values(urls)) {
      while ((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY }).catch(() => ({ status: 0 }))).status !== 200) {
        if (Date.now() > deadline) throw new Error(`${url} never answered 200:\n${n8n.output()}`);
        await sleep(250);
      }
    }

    const measured = {};
    for (const [name, url] of Object.entries(urls)) {
      assertAll200(`warm-up (${name})`, await load(url, 2));
      await sleep(1000); // let executions started by the warm-up finish before measuring CPU
      const cpuBefore = cpuMs(n8n.child.pid);
      const ok = assertAll200(name, await load(url, seconds));
      // Executions the round started may still be running: they are part of its cost.
      await sleep(name.endsWith('one') ? 200 : 2000);
      const cpu = cpuMs(n8n.child.pid) - cpuBefore;
      measured[name] = { rps: ok / seconds, cpuPerRequest: cpu / ok };
    }

    const cell = (name) => `${Math.round(measured[name].rps)}/s at ${measured[name].cpuPerRequest.toFixed(2)} ms CPU each`;
    const ratio = (name) => measured[name].rps / measured.plain.rps;
    const each = ratio('each');
    const none = ratio('none');
    const label = `same n8n 2.40.7, N8N_EXPRESSION_ENGINE=${engine}${engine === 'vm' ? ' (default)' : ''}, autocannon ${CONNECTIONS} connections, ${seconds} s each`;
    return [
      {
        name: `n8n: our trigger emitting each message vs n8n's Webhook node, Respond immediately (${label})`,
        figure: `${cell('each')} vs ${cell('plain')} (${each.toFixed(2)}×)`,
        goal: '≥ 1.0×',
        met: each >= 1.0,
      },
      {
        name: `n8n: our trigger with emission off vs n8n's Webhook node (${label})`,
        figure: `${cell('none')} vs ${cell('plain')} (${none.toFixed(1)}×)`,
        goal: '≥ 100×',
        met: none >= 100,
      },
      {
        name: `n8n: our trigger on its dedicated port, emission off, vs n8n's Webhook node (${label})`,
        figure: `${cell('portNone')} vs ${cell('plain')} (${ratio('portNone').toFixed(1)}×)`,
        goal: '≥ 100×',
        met: ratio('portNone') >= 100,
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
