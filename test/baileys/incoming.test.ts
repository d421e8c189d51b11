import { loadBaileys, type WAMessage } from '../../shared/transport/baileys/baileys-module';
import { incomingFrom } from '../../shared/transport/baileys/incoming';
import type { IncomingMessage } from '../../shared/transport/types';
import { settle } from './support/fake-clock';
import { ME, openHarness, type Harness } from './support/harness';

const PEER = '14151231234@s.whatsapp.net';
const GROUP = '120363001234567890@g.us';

/** A message as Baileys builds one, from `from` (our own JID makes it fromMe). */
function message(id: string, content: object, options: { from?: string; chat?: string; participant?: string } = {}): WAMessage {
  const built = loadBaileys().generateWAMessageFromContent(options.chat ?? PEER, content, { userJid: options.from ?? ME.id, messageId: id });
  const fromMe = (options.from ?? ME.id) === ME.id;
  return { ...built, key: { ...built.key, fromMe, ...(options.participant ? { participant: options.participant } : {}) } };
}

describe('incoming messages from Baileys upserts', () => {
  it('takes new messages of a notify batch, with text or caption, sender and time', () => {
    const text = message('T1', { conversation: 'hello' }, { from: PEER });
    const captioned = message('G1', { imageMessage: { caption: 'look', mimetype: 'image/jpeg' } }, { from: PEER, chat: GROUP, participant: PEER });
    const [first, second] = incomingFrom({ type: 'notify', messages: [text, captioned] }, () => false);
    expect(first).toMatchObject({ id: 'T1', chatJid: PEER, senderJid: PEER, fromMe: false, text: 'hello' } satisfies Partial<IncomingMessage>);
    expect(first!.at).toBe(Number(text.messageTimestamp) * 1000);
    expect(second).toMatchObject({ id: 'G1', chatJid: GROUP, senderJid: PEER, fromMe: false, text: 'look' });
  });

  it('skips history (append), status broadcasts, empty stubs and the echo of our own send', () => {
    const fromPhone = message('PHONE', { conversation: 'sent from the phone' });
    const ourSend = message('OURS', { conversation: 'sent by us' });
    const status = { ...message('S1', { conversation: 'story' }, { from: PEER }), key: { remoteJid: 'status@broadcast', fromMe: false, id: 'S1' } };
    const stub = { key: { remoteJid: PEER, fromMe: false, id: 'STUB' } } as WAMessage;
    expect(incomingFrom({ type: 'append', messages: [message('H1', { conversation: 'old' }, { from: PEER })] }, () => false)).toEqual([]);
    const found = incomingFrom({ type: 'notify', messages: [fromPhone, ourSend, status, stub] }, (id) => id === 'OURS');
    expect(found.map((incoming) => [incoming.id, incoming.fromMe, incoming.senderJid])).toEqual([['PHONE', true, null]]);
  });
});

describe('BaileysConnection reports incoming messages', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
    h.sockets.last.open();
    await settle();
  });
  afterEach(async () => {
    await h.close();
    expect(h.errors).toEqual([]);
  });

  it('through onIncoming, once per new message', async () => {
    const heard: string[] = [];
    const stop = h.connection.onIncoming((incoming) => heard.push(`${incoming.id}:${incoming.text}`));
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [message('IN1', { conversation: 'hi' }, { from: PEER })] });
    h.sockets.last.emit('messages.upsert', { type: 'append', messages: [message('OLD', { conversation: 'history' }, { from: PEER })] });
    await settle();
    stop();
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [message('IN2', { conversation: 'after stop' }, { from: PEER })] });
    await settle();
    expect(heard).toEqual(['IN1:hi']);
  });
});
