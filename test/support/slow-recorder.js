// The crash tests' account transport: a dry-run recorder that takes a few milliseconds per send, as a
// network would, so that a SIGKILL often lands while a message is in flight.
const { setTimeout: sleep } = require('node:timers/promises');
const { DryRunTransport } = require('../../dist/shared');

const ACCOUNT = { id: 'slow-recorder', kind: 'baileys', phone: '15105566777', name: 'crash test', createdAt: 1, connectedAt: 1, active: true };

class SlowRecorder extends DryRunTransport {
  async sendText(jid, text, messageId) {
    await sleep(2 + Math.random() * 8);
    await super.sendText(jid, text, messageId);
    await sleep(Math.random());
  }
}

module.exports = { ACCOUNT, SlowRecorder };
