// `npm run bench`: runs every benchmark in one process and rewrites BENCHMARKS.md with the results.
// Pass benchmark names to run a subset (the file then only gets those rows).
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');
const core = require('./core');
const nodeRed = require('./node-red');

const BENCHMARKS = {
  'accept-vs-insert': core.acceptVsBareInsert,
  'accept-at-depth': core.acceptAtDepth,
  'restart-recovery': core.restartRecovery,
  'chat-name-lookup': core.chatNameLookup,
  pacing: core.pacingAccuracy,
  'node-red': nodeRed.nodeRedThroughput,
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
    console.log(results.map((row) => `${row.figure} (goal ${row.goal}: ${row.met ? 'met' : 'NOT met'})`).join('; '));
  }
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const lines = [
    '# Benchmarks',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}, by \`npm run bench\` (all rows in one run;`,
    'ratios compare two things measured in the same process, since the machine is shared and noisy).',
    '',
    '| benchmark | result | goal | met | command |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.name} | ${row.figure} | ${row.goal} | ${row.met ? 'yes' : '**no**'} | \`${row.command}\` |`),
    '',
  ];
  writeFileSync(join(__dirname, '..', 'BENCHMARKS.md'), lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
