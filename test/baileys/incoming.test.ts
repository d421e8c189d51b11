import { loadBaileys, type BaileysEventMap, type WAMessage } from '../../shared/transport/baileys/baileys-module';
import { incomingFrom, type IncomingContext } from '../../shared/transport/baileys/incoming';
import type { IncomingMessage } from '../../shared/transport/types';
import { settle } from './support/fake-clock';
import { openHarness, type Harness } from './support/harness';
import { expectRawRevives, expected, GROUP, PEER, PEER_LID, received, SELF, withoutRaw } from './support/received';

const NOBODY_SENT: IncomingContext = { isOurSend: () => false, self: SELF };
const PEER_PUSH = { pushName: 'Ana' };
const ANA = { jid: PEER, phone: '14151231234', lid: null, pushName: 'Ana' };

/** The one incoming message a notify upsert of `message` gives. */
function only(message: WAMessage, context: IncomingContext = NOBODY_SENT): IncomingMessage {
  const found = incomingFrom({ type: 'notify', messages: [message] }, context);
  expect(found).toHaveLength(1);
  expectRawRevives(found[0]!, message);
  return found[0]!;
}

describe('incoming messages: every kind, normalised from what Baileys builds', () => {
  // [name, content, what the message says beyond the defaults]
  const kinds: [string, object, Partial<Omit<IncomingMessage, 'raw'>>][] = [
    ['a plain text', { conversation: 'hello' }, { kind: 'text', text: 'hello' }],
    [
      'an extended text that replies, quoting a text, and mentions',
      {
        extendedTextMessage: {
          text: 'yes @15105566777',
          contextInfo: { stanzaId: 'Q1', participant: SELF.jid, quotedMessage: { conversation: 'coming?' }, mentionedJid: [SELF.jid, PEER_LID] },
        },
      },
      { kind: 'text', text: 'yes @15105566777', quoted: { id: 'Q1', text: 'coming?', senderJid: SELF.jid }, mentions: [SELF.jid, PEER_LID] },
    ],
    [
      'a reply quoting a photo: the quoted text is its caption',
      { extendedTextMessage: { text: 'nice', contextInfo: { stanzaId: 'Q2', participant: PEER, quotedMessage: { imageMessage: { caption: 'the view', mimetype: 'image/jpeg' } } } } },
      { kind: 'text', text: 'nice', quoted: { id: 'Q2', text: 'the view', senderJid: PEER } },
    ],
    [
      'a photo with a caption',
      { imageMessage: { caption: 'look', mimetype: 'image/jpeg', fileLength: 48_213, mediaKey: Buffer.alloc(32, 7), url: 'https://mmg.whatsapp.net/x' } },
      { kind: 'image', text: 'look', media: { mimetype: 'image/jpeg', size: 48_213, fileName: null, seconds: null } },
    ],
    [
      'a video',
      { videoMessage: { mimetype: 'video/mp4', fileLength: 1_000_000, seconds: 12, caption: 'clip' } },
      { kind: 'video', text: 'clip', media: { mimetype: 'video/mp4', size: 1_000_000, fileName: null, seconds: 12 } },
    ],
    [
      'a GIF (a video played as a loop)',
      { videoMessage: { mimetype: 'video/mp4', fileLength: 9_000, seconds: 2, gifPlayback: true } },
      { kind: 'video', media: { mimetype: 'video/mp4', size: 9_000, fileName: null, seconds: 2 } },
    ],
    [
      'an audio file',
      { audioMessage: { mimetype: 'audio/mpeg', fileLength: 300_000, seconds: 95, ptt: false } },
      { kind: 'audio', media: { mimetype: 'audio/mpeg', size: 300_000, fileName: null, seconds: 95 } },
    ],
    [
      'a voice note (ptt)',
      { audioMessage: { mimetype: 'audio/ogg; codecs=opus', fileLength: 8_000, seconds: 4, ptt: true } },
      { kind: 'voice', media: { mimetype: 'audio/ogg; codecs=opus', size: 8_000, fileName: null, seconds: 4 } },
    ],
    [
      'a document',
      { documentMessage: { mimetype: 'application/pdf', fileLength: 52_000, fileName: 'invoice.pdf' } },
      { kind: 'document', media: { mimetype: 'application/pdf', size: 52_000, fileName: 'invoice.pdf', seconds: null } },
    ],
    [
      'a document with a caption (its own wrapper)',
      { documentWithCaptionMessage: { message: { documentMessage: { mimetype: 'application/pdf', fileLength: 10, fileName: 'a.pdf', caption: 'read this' } } } },
      { kind: 'document', text: 'read this', media: { mimetype: 'application/pdf', size: 10, fileName: 'a.pdf', seconds: null } },
    ],
    [
      'a sticker',
      { stickerMessage: { mimetype: 'image/webp', fileLength: 20_000 } },
      { kind: 'sticker', media: { mimetype: 'image/webp', size: 20_000, fileName: null, seconds: null } },
    ],
    [
      'a location',
      { locationMessage: { degreesLatitude: -23.55, degreesLongitude: -46.63, name: 'Praça da Sé', address: 'São Paulo' } },
      { kind: 'location', location: { latitude: -23.55, longitude: -46.63, name: 'Praça da Sé', address: 'São Paulo' } },
    ],
    [
      'a live location',
      { liveLocationMessage: { degreesLatitude: 52.52, degreesLongitude: 13.4, caption: 'on my way' } },
      { kind: 'location', text: 'on my way', location: { latitude: 52.52, longitude: 13.4, name: null, address: null } },
    ],
    [
      'a contact card',
      { contactMessage: { displayName: 'Bea', vcard: 'BEGIN:VCARD\nFN:Bea\nEND:VCARD' } },
      { kind: 'contact', contacts: [{ displayName: 'Bea', vcard: 'BEGIN:VCARD\nFN:Bea\nEND:VCARD' }] },
    ],
    [
      'several contact cards',
      { contactsArrayMessage: { displayName: '2 contacts', contacts: [{ displayName: 'Bea', vcard: 'V1' }, { vcard: 'V2' }] } },
      { kind: 'contact', contacts: [{ displayName: 'Bea', vcard: 'V1' }, { displayName: null, vcard: 'V2' }] },
    ],
    [
      'a reaction',
      { reactionMessage: { key: { remoteJid: PEER, fromMe: true, id: 'MINE1' }, text: '👍', senderTimestampMs: 1 } },
      { kind: 'reaction', reaction: { emoji: '👍', targetId: 'MINE1' } },
    ],
    [
      'a reaction taken back (empty emoji)',
      { reactionMessage: { key: { remoteJid: PEER, fromMe: true, id: 'MINE1' }, text: '' } },
      { kind: 'reaction', reaction: { emoji: '', targetId: 'MINE1' } },
    ],
    [
      'a poll (v1)',
      { pollCreationMessage: { name: 'Lunch?', options: [{ optionName: 'Pizza' }, { optionName: 'Sushi' }], selectableOptionsCount: 1 } },
      { kind: 'poll', poll: { name: 'Lunch?', options: ['Pizza', 'Sushi'] } },
    ],
    ['a poll (v2)', { pollCreationMessageV2: { name: 'When?', options: [{ optionName: 'Mon' }] } }, { kind: 'poll', poll: { name: 'When?', options: ['Mon'] } }],
    ['a poll (v3)', { pollCreationMessageV3: { name: 'Where?', options: [{ optionName: 'Here' }, { optionName: 'There' }] } }, { kind: 'poll', poll: { name: 'Where?', options: ['Here', 'There'] } }],
    [
      'a deletion (revoke)',
      { protocolMessage: { type: 'REVOKE', key: { remoteJid: PEER, fromMe: false, id: 'GONE1' } } },
      { kind: 'delete', targetId: 'GONE1' },
    ],
    [
      'an edit (protocol message)',
      { protocolMessage: { type: 'MESSAGE_EDIT', key: { remoteJid: PEER, fromMe: false, id: 'OLD1' }, editedMessage: { conversation: 'fixed typo' }, timestampMs: 5 } },
      { kind: 'edit', text: 'fixed typo', targetId: 'OLD1' },
    ],
    [
      'an edit in its editedMessage wrapper, of a caption, with a mention',
      {
        editedMessage: {
          message: {
            protocolMessage: {
              type: 'MESSAGE_EDIT',
              key: { id: 'OLD2' },
              editedMessage: { extendedTextMessage: { text: 'now @15105566777', contextInfo: { mentionedJid: [SELF.jid] } } },
            },
          },
        },
      },
      { kind: 'edit', text: 'now @15105566777', targetId: 'OLD2', mentions: [SELF.jid] },
    ],
    [
      'a disappearing (ephemeral) text',
      { ephemeralMessage: { message: { extendedTextMessage: { text: 'gone in 7 days' } } } },
      { kind: 'text', text: 'gone in 7 days' },
    ],
    [
      'a view-once photo',
      { viewOnceMessageV2: { message: { imageMessage: { mimetype: 'image/jpeg', fileLength: 3, viewOnce: true } } } },
      { kind: 'image', media: { mimetype: 'image/jpeg', size: 3, fileName: null, seconds: null } },
    ],
    [
      'a group text that carries the sender key beside it',
      { senderKeyDistributionMessage: { groupId: GROUP, axolotlSenderKeyDistributionMessage: Buffer.from([1, 2]) }, conversation: 'first in the group' },
      { kind: 'text', text: 'first in the group' },
    ],
    ['anything else (an event)', { eventMessage: { name: 'Party', isCanceled: false } }, { kind: 'other' }],
  ];

  it.each(kinds)('%s', (_name, content, fields) => {
    const message = received('K1', content, PEER_PUSH);
    expect(withoutRaw(only(message))).toEqual(expected('K1', { sender: ANA, ...fields }));
  });
});

describe('incoming messages: who sent them', () => {
  it('a direct chat with a phone JID: the phone, and the LID where Baileys gives it beside (remoteJidAlt)', () => {
    expect(only(received('P1', { conversation: 'hi' })).sender).toEqual({ jid: PEER, phone: '14151231234', lid: null, pushName: null });
    expect(only(received('P2', { conversation: 'hi' }, { remoteJidAlt: PEER_LID, pushName: 'Ana' })).sender).toEqual({
      jid: PEER,
      phone: '14151231234',
      lid: PEER_LID,
      pushName: 'Ana',
    });
  });

  it('a LID-only direct chat: no phone, the LID; with the phone JID beside it (remoteJidAlt), the phone', () => {
    const lidOnly = only(received('L1', { conversation: 'who am I' }, { chat: PEER_LID, pushName: 'Hidden' }));
    expect(withoutRaw(lidOnly)).toEqual(
      expected('L1', { chatJid: PEER_LID, sender: { jid: PEER_LID, phone: null, lid: PEER_LID, pushName: 'Hidden' }, text: 'who am I' }),
    );
    const withAlt = only(received('L2', { conversation: 'me again' }, { chat: PEER_LID, remoteJidAlt: PEER }));
    expect(withAlt.sender).toEqual({ jid: PEER_LID, phone: '14151231234', lid: PEER_LID, pushName: null });
  });

  it('a group: the participant, by LID (with or without participantAlt) or by phone JID with a device', () => {
    const lidOnly = only(received('G1', { conversation: 'in the group' }, { chat: GROUP, participant: PEER_LID, pushName: 'Ana' }));
    expect(withoutRaw(lidOnly)).toEqual(
      expected('G1', { chatJid: GROUP, isGroup: true, sender: { jid: PEER_LID, phone: null, lid: PEER_LID, pushName: 'Ana' }, text: 'in the group' }),
    );
    const withAlt = only(received('G2', { conversation: 'x' }, { chat: GROUP, participant: PEER_LID, participantAlt: PEER }));
    expect(withAlt.sender).toEqual({ jid: PEER_LID, phone: '14151231234', lid: PEER_LID, pushName: null });
    const device = only(received('G3', { conversation: 'x' }, { chat: GROUP, participant: '14151231234:3@s.whatsapp.net' }));
    expect(device.sender).toEqual({ jid: PEER, phone: '14151231234', lid: null, pushName: null });
  });

  it('sent from the account\'s own phone (fromMe, not our send): kept, the account as sender', () => {
    const self = { jid: SELF.jid, lid: '99887766554433@lid' };
    const fromPhone = only(received('PHONE1', { conversation: 'typed on the phone' }, { fromMe: true, pushName: 'Ana Phone' }), { isOurSend: () => false, self });
    expect(withoutRaw(fromPhone)).toEqual(
      expected('PHONE1', { fromMe: true, sender: { jid: SELF.jid, phone: '15105566777', lid: '99887766554433@lid', pushName: 'Ana Phone' }, text: 'typed on the phone' }),
    );
    const inGroup = only(received('PHONE2', { conversation: 'hello all' }, { chat: GROUP, participant: '99887766554433@lid', fromMe: true }), { isOurSend: () => false, self });
    expect(inGroup).toMatchObject({ chatJid: GROUP, isGroup: true, fromMe: true, sender: { jid: SELF.jid, phone: '15105566777', lid: '99887766554433@lid' } });
  });
});

describe('incoming messages: what is not news', () => {
  const upsert = (type: 'notify' | 'append', ...messages: WAMessage[]): BaileysEventMap['messages.upsert'] => ({ type, messages });

  it('the echo of our own send is dropped, in a notify or an append batch', () => {
    const context: IncomingContext = { isOurSend: (id) => id === 'OURS', self: SELF };
    const echo = received('OURS', { extendedTextMessage: { text: 'sent by us' } }, { fromMe: true });
    expect(incomingFrom(upsert('notify', echo), context)).toEqual([]);
    expect(incomingFrom(upsert('append', echo), context)).toEqual([]);
    // A message from someone else that happens to share the id is no echo.
    expect(incomingFrom(upsert('notify', received('OURS', { conversation: 'hi' })), context)).toHaveLength(1);
  });

  it('what WhatsApp replays on reconnect (append) is news; stubs rebuilt from notifications (no content) are not', () => {
    const missed = received('MISSED', { conversation: 'sent while you were offline' }, PEER_PUSH);
    const stub: WAMessage = { key: { remoteJid: GROUP, fromMe: false, id: 'STUB', participant: PEER }, messageStubType: 27, messageTimestamp: 1 };
    const found = incomingFrom(upsert('append', missed, stub), NOBODY_SENT);
    expect(found.map(withoutRaw)).toEqual([expected('MISSED', { sender: ANA, text: 'sent while you were offline' })]);
  });

  it('status broadcasts, newsletters, broadcast lists, and housekeeping protocol messages are dropped', () => {
    const housekeeping = [
      received('SKD', { senderKeyDistributionMessage: { groupId: GROUP, axolotlSenderKeyDistributionMessage: Buffer.from([1]) } }, { chat: GROUP, participant: PEER }),
      received('HIST', { protocolMessage: { type: 'HISTORY_SYNC_NOTIFICATION', historySyncNotification: { syncType: 'RECENT', chunkOrder: 1 } } }, { fromMe: true }),
      received('EPH', { protocolMessage: { type: 'EPHEMERAL_SETTING', ephemeralExpiration: 604_800 } }),
      received('KEYS', { protocolMessage: { type: 'APP_STATE_SYNC_KEY_SHARE', appStateSyncKeyShare: { keys: [] } } }, { fromMe: true }),
      received('STATUS', { conversation: 'my story' }, { chat: 'status@broadcast', participant: PEER }),
      received('NEWS', { conversation: 'channel post' }, { chat: '120363000000000000@newsletter' }),
      received('LIST', { conversation: 'to my list' }, { chat: '1700000000@broadcast', participant: PEER }),
      { key: { remoteJid: PEER, fromMe: false, id: 'EMPTY' } } as WAMessage,
    ];
    expect(incomingFrom(upsert('notify', ...housekeeping), NOBODY_SENT)).toEqual([]);
  });

  it('the same upsert twice gives the same messages twice, ids and all (the store dedupes)', () => {
    const batch = upsert('notify', received('D1', { conversation: 'one' }), received('D2', { conversation: 'two' }));
    const first = incomingFrom(batch, NOBODY_SENT);
    const second = incomingFrom(batch, NOBODY_SENT);
    expect(first.map((message) => message.id)).toEqual(['D1', 'D2']);
    expect(second).toEqual(first);
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

  const listen = () => {
    const heard: IncomingMessage[] = [];
    const stop = h.connection.onIncoming((incoming) => heard.push(incoming));
    return { heard, stop };
  };

  it('through onIncoming, once per new message, in order, until the listener stops', async () => {
    const { heard, stop } = listen();
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [received('IN1', { conversation: 'hi' }), received('IN2', { conversation: 'there' })] });
    await settle();
    stop();
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [received('IN3', { conversation: 'after stop' })] });
    await settle();
    expect(heard.map((message) => `${message.id}:${message.text}`)).toEqual(['IN1:hi', 'IN2:there']);
  });

  it('not history: messages synced on linking (messaging-history.set) are never reported', async () => {
    const { heard } = listen();
    h.sockets.last.emit('messaging-history.set', {
      chats: [],
      contacts: [],
      messages: [received('OLD1', { conversation: 'last year' })],
      isLatest: true,
      syncType: loadBaileys().proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
    });
    await settle();
    expect(heard).toEqual([]);
  });

  it('a sender by LID alone gets the phone Baileys maps it to', async () => {
    const { heard } = listen();
    h.sockets.last.phoneByLid.set(PEER_LID, '14151231234:0@s.whatsapp.net');
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [received('LID1', { conversation: 'hidden' }, { chat: PEER_LID })] });
    await settle();
    expect(heard.map((message) => message.sender)).toEqual([{ jid: PEER_LID, phone: '14151231234', lid: PEER_LID, pushName: null }]);
    expect(h.sockets.last.lidLookups).toEqual([PEER_LID]);
  });

  it('the directory\'s LID map answers first (from lid-mapping.update); Baileys is not asked', async () => {
    const { heard } = listen();
    h.sockets.last.emit('lid-mapping.update', { lid: PEER_LID, pn: PEER });
    await settle();
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [received('LID2', { conversation: 'x' }, { chat: GROUP, participant: PEER_LID })] });
    await settle();
    expect(heard.map((message) => message.sender.phone)).toEqual(['14151231234']);
    expect(h.sockets.last.lidLookups).toEqual([]);
  });

  it('a LID nobody maps: the message goes without a phone', async () => {
    const { heard } = listen();
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [received('LID3', { conversation: 'x' }, { chat: PEER_LID })] });
    await settle();
    expect(heard.map((message) => [message.id, message.sender.phone])).toEqual([['LID3', null]]);
  });

  it('a lookup that hangs holds the message at most 2 s, and a later message does not overtake it', async () => {
    const { heard } = listen();
    h.sockets.last.lidLookup = () => new Promise(() => undefined);
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [received('SLOW', { conversation: 'x' }, { chat: PEER_LID })] });
    await settle();
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [received('NEXT', { conversation: 'y' })] });
    await h.clock.advance(1_999);
    expect(heard).toEqual([]);
    await h.clock.advance(1);
    expect(heard.map((message) => [message.id, message.sender.phone])).toEqual([
      ['SLOW', null],
      ['NEXT', '14151231234'],
    ]);
  });

  it('a lookup that fails leaves the phone null and breaks nothing', async () => {
    const { heard } = listen();
    h.sockets.last.lidLookup = async () => {
      throw new Error('key store unavailable');
    };
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages: [received('FAIL', { conversation: 'x' }, { chat: PEER_LID })] });
    await settle();
    expect(heard.map((message) => [message.id, message.sender.phone])).toEqual([['FAIL', null]]);
  });

  it('the echo of a send of ours is dropped, even when our side gave up on the send before WhatsApp took it', async () => {
    const { heard } = listen();
    const socket = h.sockets.last;
    socket.send = () => new Promise(() => undefined);
    const sending = h.connection.sendText(PEER, 'slow', '3EB0ECHO00000000000000').catch((error: unknown) => error);
    await h.clock.advance(30_000);
    await expect(sending).resolves.toMatchObject({ kind: 'transient' });
    // Baileys files its own sends as an append batch (emitOwnEvents).
    socket.emit('messages.upsert', { type: 'append', messages: [received('3EB0ECHO00000000000000', { extendedTextMessage: { text: 'slow' } }, { fromMe: true })] });
    socket.emit('messages.upsert', { type: 'notify', messages: [received('PHONE', { conversation: 'from the phone' }, { fromMe: true })] });
    await settle();
    expect(heard.map((message) => [message.id, message.fromMe, message.sender.jid])).toEqual([['PHONE', true, SELF.jid]]);
  });
});
