// `npm run bench -- metrics`: how long a Prometheus scrape of /metrics takes on the standalone server with
// 50 accounts, each with messages waiting (queue depth and age are read from the store at every scrape)
// and its webhook calls and acceptances counted.
const { once } = require('node:events');
const { request } = require('node:http');
const { Workspace, SqliteStore, DryRunTransport, createWebhookServer } = require('../dist/shared');
const { tempStorePath, timeEach, percentile, mean } = require('./lib');

const TOKEN = 'bench-metrics-token-0123456789';

/** A linked phone that is offline: what is accepted for it stays queued. */
class OfflineTransport extends DryRunTransport {
  isReady() {
    return false;
  }
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function metricsScrape(accounts = 50, queuedEach = 20, samples = 300) {
  const store = tempStorePath('metrics');
  const sqlite = new SqliteStore({ path: store.path });
  for (let i = 0; i < accounts; i++) {
    const phone = String(14150000100 + i);
    await sqlite.accounts.put({ id: `wa-${phone}`, kind: 'baileys', phone, name: null, createdAt: 1, connectedAt: 1 + i, active: true });
  }
  const workspace = await Workspace.open({
    store: sqlite,
    quota: { period: 'none', allowance: 10_000_000 },
    initialToken: TOKEN,
    openTransport: (account) => new OfflineTransport(account.id, account.phone, sqlite.dryRun, Date.now),
  });
  const server = createWebhookServer(workspace);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  // Every account gets its messages through the webhook, so calls and acceptances are counted too.
  for (let i = 0; i < accounts; i++) {
    const phone = `+${14150000100 + i}`;
    for (let j = 0; j < queuedEach; j++) {
      const body = JSON.stringify({ action: 'send', phone: '+14151231234', text: `queued ${j}`, whatsapp_account_phone: phone });
      const response = await fetch(`http://127.0.0.1:${port}/whatsapp/${TOKEN}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (response.status !== 200) throw new Error(`accept answered ${response.status}`);
    }
  }
  for (let i = 0; i < 30; i++) await get(port, '/metrics');
  let bytes = 0;
  const http = await timeEach(samples, async () => (bytes = await get(port, '/metrics')));
  const inProcess = await timeEach(samples, () => workspace.metricsText());
  const text = (await workspace.metricsText()).text;
  const series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  server.close();
  await workspace.close();
  store.cleanup();
  const ms = (us) => (us / 1000).toFixed(2);
  return [
    {
      name: `/metrics scrape of the standalone server with ${accounts} accounts, ${accounts * queuedEach} messages waiting (queue depth and oldest age read from the store each scrape; ${series} series, ${(bytes / 1024).toFixed(0)} KiB), ${samples} scrapes over HTTP one after another`,
      figure: `mean ${ms(mean(http))} ms, p99 ${ms(percentile(http, 99))} ms over HTTP; ${ms(mean(inProcess))} ms to collect and write the text in process`,
      goal: 'reported (Prometheus scrapes every 15–60 s)',
      met: undefined,
    },
  ];
}

module.exports = { metricsScrape };
