#!/usr/bin/env node
// One command to try the package in a real n8n: `bash scripts/run.sh start:n8n` (Node 24 on PATH, build,
// n8n installed into the cache once). Data lives in .data/n8n. The first start imports a dry-run
// workspace credential and an active "WhatsApp Inbound Webhook Trigger" workflow, so the printed URL
// answers at once; link a real phone later with the WhatsApp node's "Link Account" operation.
'use strict';
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { ROOT, n8nEnv, n8nCli, freePort, startN8n } = require('./n8n-server.js');

const userFolder = process.env.N8N_USER_FOLDER || join(ROOT, '.data', 'n8n');
const port = Number(process.env.N8N_PORT || 5678);
const TOKEN = 'local-n8n-token-0123456789';
const WEBHOOK_ID = '5d1e8a34-3f0c-4b7e-8d2a-10ca1f0e0001';

const credential = {
  id: 'wahookLocalCred1',
  name: 'WhatsApp Workspace (local, dry run)',
  type: 'whatsAppWorkspaceApi',
  data: { workspaceName: 'local', dryRunPhones: '+15105566777', initialToken: TOKEN, quotaAllowance: 1000, quotaPeriod: 'daily', gapMinSeconds: 1.5, gapMaxSeconds: 2.5 },
};
const workflow = {
  id: 'wahookLocalWf001',
  name: 'WhatsApp inbound webhook (TimelinesAI-compatible)',
  active: false,
  settings: { executionOrder: 'v1' },
  nodes: [
    {
      id: '5d1e8a34-3f0c-4b7e-8d2a-10ca1f0e00ff',
      name: 'WhatsApp Inbound Webhook Trigger',
      type: 'CUSTOM.whatsAppTrigger',
      typeVersion: 1,
      position: [0, 0],
      webhookId: WEBHOOK_ID,
      parameters: { path: 'whatsapp', mode: 'queue', emission: 'each', emitStatus: true },
      credentials: { whatsAppWorkspaceApi: { id: credential.id, name: credential.name } },
    },
  ],
  connections: {},
};

async function firstRun() {
  const marker = join(userFolder, '.wahook-imported');
  if (existsSync(marker)) return;
  mkdirSync(userFolder, { recursive: true });
  const env = n8nEnv({ userFolder, port, brokerPort: await freePort() });
  const credentialsFile = join(userFolder, 'wahook-credentials.json');
  const workflowsFile = join(userFolder, 'wahook-workflows.json');
  writeFileSync(credentialsFile, JSON.stringify([credential]));
  writeFileSync(workflowsFile, JSON.stringify([workflow]));
  console.log('First start: importing a dry-run workspace and an active webhook workflow...');
  await n8nCli(env, ['import:credentials', `--input=${credentialsFile}`]);
  await n8nCli(env, ['import:workflow', `--input=${workflowsFile}`]);
  await n8nCli(env, ['publish:workflow', `--id=${workflow.id}`]);
  writeFileSync(marker, new Date().toISOString());
}

async function main() {
  await firstRun();
  const n8n = await startN8n({ userFolder, port });
  console.log(`n8n ${n8n.url} is running with the WhatsApp nodes (data: ${userFolder}).`);
  console.log(`Open ${n8n.url} in a browser to create the owner account.`);
  console.log(`Webhook (dry-run account +15105566777; the token changes when you rotate it):`);
  console.log(`  curl -X POST ${n8n.url}/webhook/${WEBHOOK_ID}/whatsapp/${TOKEN} -H 'Content-Type: application/json' \\`);
  console.log(`    -d '{"action":"send","phone":"+14151231234","text":"hello"}'`);
  n8n.child.stdout.pipe(process.stdout);
  n8n.child.stderr.pipe(process.stderr);
  const stop = () => void n8n.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
