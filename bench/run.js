// `npm run bench`: runs every benchmark in one process and writes BENCHMARKS.md with the results.
// Pass benchmark names to run a subset: their rows are replaced, the other rows are kept as they were.
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');
const core = require('./core');
const nodeRed = require('./node-red');
const n8n = require('./n8n');
const inbound = require('./inbound');
const metrics = require('./metrics');
const retention = require('./retention');
const cloudApi = require('./cloud-api');

const BENCHMARKS = {
  'accept-vs-insert': core.acceptVsBareInsert,
  'accept-at-depth': core.acceptAtDepth,
  'restart-recovery': core.restartRecovery,
  'queue-with-history': core.queueWithHistory,
  'chat-name-lookup': core.chatNameLookup,
  pacing: core.pacingAccuracy,
  inbound: inbound.inboundThroughput,
  metrics: metrics.metricsScrape,
  retention: retention.retention60Days,
  'cloud-api': cloudApi.cloudApi,
  'node-red': nodeRed.nodeRedThroughput,
  n8n: n8n.n8nThroughput,
};

async function main() {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(BENCHMARKS);
  const rows = [];
  for (const name of names) {
    const bench = BENCHMARKS[name];
    if (!bench) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.stdout.write(`${name} … `);
    const results = await bench();
    for (const row of results) rows.push({ ...row, command: `npm run bench -- ${name}` });
    console.log(results.map((row) => `${row.figure} (goal ${row.goal}: ${row.met === undefined ? 'reported' : row.met ? 'met' : 'NOT met'})`).join('; '));
  }
  const file = join(__dirname, '..', 'BENCHMARKS.md');
  const ran = new Set(names.map((name) => `\`npm run bench -- ${name}\``));
  const kept = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('| ') && !line.startsWith('| benchmark') && ![...ran].some((command) => line.includes(command)))
    : [];
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const lines = [
    '# Benchmarks',
    '',
    `Last written ${new Date().toISOString().slice(0, 10)} on ${machine}. \`npm run bench\` runs every row;`,
    'each row comes from the command beside it, and each ratio compares two things measured in that same run',
    '(the machine is shared and noisy, so absolute figures move more than ratios).',
    '',
    '| benchmark | result | goal | met | command |',
    '|---|---|---|---|---|',
    ...kept,
    ...rows.map((row) => `| ${row.name} | ${row.figure} | ${row.goal} | ${row.met === undefined ? '—' : row.met ? 'yes' : '**no**'} | \`${row.command}\` |`),
    '',
  ];
  writeFileSync(file, lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
