// The WhatsApp Cloud API account (issue 15): how close its sending comes to its pacing profile's rate, and
// what Meta's signed receipts cost to take (signature, parse, one receipt applied to the outbox).
const { createHmac } = require('node:crypto');
const { createServer } = require('node:http');
const { Workspace, SqliteStore, handleWebhookCall, serveCloudApiCall, cloudApiAccountId, CLOUD_API_GAP } = require('../dist/shared');
const { tempStorePath } = require('./lib');

const NUMBER = { phoneNumberId: '106540352242922', accessToken: 'EAAbench', appSecret: 'bench-app-secret', verifyToken: 'bench' };

/** The smallest Graph API that answers the number's check and sends with wamids. */
async function fakeGraph() {
  let count = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const body = request.method === 'GET' ? { display_phone_number: '+1 555-010-0000', verified_name: 'Bench', id: NUMBER.phoneNumberId } : { messaging_product: 'whatsapp', messages: [{ id: `wamid.bench${++count}` }] };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

function receipt(wamid, status) {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: NUMBER.phoneNumberId }, statuses: [{ id: wamid, status, timestamp: '1780000000', recipient_id: '14151231234' }] } }] }],
  });
  return { body: Buffer.from(body), signature: `sha256=${createHmac('sha256', NUMBER.appSecret).update(body).digest('hex')}` };
}

async function cloudApi(sends = 500) {
  const graph = await fakeGraph();
  const place = tempStorePath('cloud-api');
  const workspace = await Workspace.open({ store: new SqliteStore({ path: place.path }), quota: { period: 'none', allowance: 1_000_000 }, cloudApi: { numbers: [{ ...NUMBER, graphBaseUrl: graph.url }] } });
  const accountId = cloudApiAccountId(NUMBER.phoneNumberId);
  while (workspace.connection(accountId)?.state !== 'open') await new Promise((resolve) => setTimeout(resolve, 10));
  const token = workspace.webhookState().token;
  const ids = [];
  let sentAll;
  const allSent = new Promise((resolve) => (sentAll = resolve));
  let sent = 0;
  workspace.onMessageChange((change) => {
    if (change.status === 'sent' && ++sent === sends) sentAll();
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < sends; i++) {
    const answer = await handleWebhookCall(workspace, { method: 'POST', contentType: 'application/json', body: JSON.stringify({ action: 'send', phone: `+1415555${String(i).padStart(4, '0')}`, text: `order ${i} shipped` }), token, remoteAddress: null });
    ids.push(answer.body.data.message_id.slice('wa_backend:'.length));
  }
  await allSent;
  const sendSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = sends / sendSeconds;
  const cap = 1000 / CLOUD_API_GAP.minMs;

  // Receipts: delivered then read for every send, each a signed POST as Meta posts it.
  // One account sends in order, and the fake numbers its wamids in that order (all ending read proves it).
  const wamids = ids.map((_, i) => `wamid.bench${i + 1}`);
  const cpuBefore = process.cpuUsage();
  const receiptsStart = process.hrtime.bigint();
  for (const status of ['delivered', 'read']) {
    for (const wamid of wamids) {
      const { body, signature } = receipt(wamid, status);
      const answer = await serveCloudApiCall([workspace], { method: 'POST', query: '', body, signature });
      if (answer.status !== 200) throw new Error(`receipt answered ${answer.status}: ${answer.body}`);
    }
  }
  const receiptSeconds = Number(process.hrtime.bigint() - receiptsStart) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const receipts = wamids.length * 2;
  const read = (await Promise.all(ids.map((id) => workspace.message(id)))).filter((message) => message.status === 'read').length;
  await workspace.close();
  await graph.close();
  place.cleanup();
  if (read !== sends) throw new Error(`${read} of ${sends} messages ended read`);
  return [
    {
      name: `Cloud API sends through a local Graph API (${sends} messages, SQLite)`,
      figure: `${rate.toFixed(1)} messages/s, ${Math.round((rate / cap) * 100)}% of the profile's ${cap}/s`,
      goal: '≥ 80% of the pacing profile\'s rate',
      met: rate >= 0.8 * cap,
    },
    {
      name: 'Cloud API signed receipts taken (signature, parse, outbox), one per POST',
      figure: `${Math.round(receipts / receiptSeconds).toLocaleString('en')} receipts/s, ${((cpu.user + cpu.system) / 1000 / receipts).toFixed(3)} CPU ms each (${receipts.toLocaleString('en')} receipts)`,
      goal: 'report',
    },
  ];
}

module.exports = { cloudApi };
