#!/usr/bin/env node
// Starts a real Node-RED (this package's devDependency) with our nodes installed, on the embedded SQLite
// store. First run: deploys examples/dry-run-webhook.json, whose workspace has a dry-run account and a
// fixed, documented token. Usage: node scripts/node-red.js [userDir] (default .data/node-red).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const userDir = path.resolve(process.argv[2] ?? path.join(root, '.data', 'node-red'));
const port = Number(process.env.PORT ?? 1880);
const host = process.env.HOST ?? '127.0.0.1';
const pkg = require(path.join(root, 'package.json'));

// Node-RED finds installed nodes in <userDir>/node_modules: link this package there.
const installed = path.join(userDir, 'node_modules', ...pkg.name.split('/'));
fs.mkdirSync(path.dirname(installed), { recursive: true });
if (!fs.existsSync(installed)) fs.symlinkSync(root, installed, 'dir');

const settingsFile = path.join(userDir, 'settings.js');
fs.writeFileSync(
  settingsFile,
  `module.exports = ${JSON.stringify(
    { uiHost: host, uiPort: port, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'info' } } },
    null,
    2,
  )};\n`,
);
const flows = path.join(userDir, 'flows.json');
if (!fs.existsSync(flows)) fs.copyFileSync(path.join(root, 'examples', 'dry-run-webhook.json'), flows);

const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', settingsFile], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = `http://${host}:${port}/whatsapp/dry-run-example-token-0001`;
red.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (String(chunk).includes('Started flows')) {
    console.log(`\nEditor:      http://${host}:${port}/`);
    console.log(`Webhook URL: ${url}  (the example's fixed token; "Generate new URL" in the workspace replaces it)`);
    console.log(`Try it:      curl -s -H 'content-type: application/json' -d '{"action":"send","phone":"+14151231234","text":"hello"}' ${url}\n`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => red.kill(signal));
red.on('exit', (code) => process.exit(code ?? 0));
