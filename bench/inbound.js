// Received messages (issue 13): from the transport to a flow's reader, with the store write included,
// and what 100,000 stored received messages cost in memory.
const { EventEmitter } = require('node:events');
const { Workspace, SqliteStore, DryRunTransport } = require('../dist/shared');
const { tempStorePath, mb } = require('./lib');

const ACCOUNT = { id: 'wa-bench', kind: 'baileys', phone: '15105566777', name: null, createdAt: 1, connectedAt: 1, active: true };

/** A dry-run transport that also reports incoming messages, as a connected Baileys account does. */
class ReceivingTransport extends DryRunTransport {
  incoming = new EventEmitter();
  onIncoming(listener) {
    this.incoming.on('message', listener);
    return () => this.incoming.off('message', listener);
  }
}

function incoming(i) {
  const id = `3A${i.toString(16).toUpperCase().padStart(18, '0')}`;
  const chatJid = `1415555${String(i % 500).padStart(4, '0')}@s.whatsapp.net`;
  return {
    id,
    chatJid,
    isGroup: false,
    sender: { jid: chatJid, phone: chatJid.split('@')[0], lid: null, pushName: `Contact ${i % 500}` },
    fromMe: false,
    at: Date.now(),
    kind: 'text',
    text: `Hello, is my order #${i} on its way?`,
    quoted: null,
    mentions: [],
    media: null,
    reaction: null,
    targetId: null,
    location: null,
    contacts: null,
    poll: null,
    raw: { key: { id, remoteJid: chatJid, fromMe: false }, message: { conversation: `Hello, is my order #${i} on its way?` }, messageTimestamp: 1780000000 },
  };
}

async function openReceiving(path) {
  const store = new SqliteStore({ path });
  await store.accounts.put(ACCOUNT);
  let transport;
  const workspace = await Workspace.open({
    store,
    openTransport: (account) => (transport = new ReceivingTransport(account.id, account.phone, store.dryRun, Date.now)),
  });
  return { workspace, transport };
}

/** Reports `count` messages in upsert-sized bursts of `burst`, one burst per turn. */
async function report(transport, from, count, burst) {
  for (let i = from; i < from + count; i += burst) {
    for (let j = i; j < Math.min(from + count, i + burst); j++) transport.incoming.emit('message', incoming(j));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function inboundThroughput(count = 20_000, stored = 100_000) {
  const place = tempStorePath('inbound');
  const { workspace, transport } = await openReceiving(place.path);
  let delivered = 0;
  let allDelivered;
  const done = new Promise((resolve) => (allDelivered = resolve));
  const follower = await workspace.received.follow({
    reader: 'bench',
    filter: {},
    deliver: (items) => {
      delivered += items.length;
      if (delivered >= count) allDelivered();
    },
  });
  // Warm-up, not counted.
  await report(transport, 0, 1000, 20);
  while (delivered < 1000) await new Promise((resolve) => setTimeout(resolve, 5));
  delivered = 0;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  await report(transport, 1000, count, 20);
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsEach = (cpu.user + cpu.system) / 1000 / count;
  await follower.stop();

  // Memory with `stored` received messages in the store (the reader keeps nothing per message).
  global.gc?.();
  const before = process.memoryUsage();
  const left = stored - (count + 1000);
  await report(transport, count + 1000, left, 200);
  await workspace.received.settled();
  const total = await workspace.store.inbound.count();
  global.gc?.();
  const after = process.memoryUsage();
  await workspace.close();
  place.cleanup();
  const growth = mb(after.heapUsed - before.heapUsed);
  const rssGrowth = mb(after.rss - before.rss);
  return [
    {
      name: 'received messages, transport → store → flow reader (SQLite, bursts of 20)',
      figure: `${Math.round(count / seconds).toLocaleString('en')} messages/s, ${cpuMsEach.toFixed(3)} CPU ms each (${count.toLocaleString('en')} messages)`,
      goal: 'report',
    },
    {
      name: `memory with ${total.toLocaleString('en')} stored received messages`,
      figure: `heap ${signed(growth)} MB, RSS ${signed(rssGrowth)} MB after storing ${left.toLocaleString('en')} more`,
      goal: '≤ 50 MB growth',
      met: growth <= 50 && rssGrowth <= 50,
    },
  ];
}

const signed = (value) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;

module.exports = { inboundThroughput };
