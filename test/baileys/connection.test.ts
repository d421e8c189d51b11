import { Boom } from '@hapi/boom';
import { loadBaileys } from '../../shared/transport/baileys/baileys-module';
import { BaileysConnection } from '../../shared/transport/baileys/connection';
import { CallTimeoutError } from '../../shared/time/clock';
import { TransportError } from '../../shared/transport/types';
import { settle } from './support/fake-clock';
import { ACCOUNT_ID, ME, openHarness, type Harness } from './support/harness';

const BACKOFF = { baseDelayMs: 1_000, maxDelayMs: 8_000 };

describe('BaileysConnection: staying connected', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
    expect(h.errors).toEqual([]);
  });

  it('opens a socket with the stored creds and reports open with the account phone and name', async () => {
    h = await openHarness();
    expect(h.connection.state).toBe('connecting');
    expect(h.sockets.sockets).toHaveLength(1);
    expect(h.sockets.last.options.auth.creds.me).toEqual(ME);
    h.sockets.last.open();
    await settle();
    expect(h.connection.state).toBe('open');
    expect(h.connection.isReady()).toBe(true);
    expect(h.connection.connectionInfo()).toMatchObject({ state: 'open', phone: '15105566777', name: 'Ana Phone', detail: null, pausedUntil: null });
    expect(h.states).toEqual(['open']);
  });

  it('reports logged_out without opening a socket when no phone is linked', async () => {
    h = await openHarness({ linked: false });
    expect(h.sockets.sockets).toHaveLength(0);
    expect(h.connection.state).toBe('logged_out');
    expect(h.connection.connectionInfo().detail).toMatch(/No phone is linked/);
  });

  it('515 (restart required): a new socket at once, no backoff', async () => {
    h = await openHarness({ backoff: BACKOFF });
    h.sockets.last.open();
    await settle();
    h.sockets.last.disconnect(515, 'Stream Errored (restart required)');
    await settle();
    expect(h.sockets.sockets).toHaveLength(2);
    expect(h.sockets.sockets[0]!.ended).toBe(true);
    expect(h.connection.state).toBe('connecting');
    // Only the new socket's open timer is pending: no reconnect timer.
    expect(h.clock.pendingDelays()).toEqual([60_000]);
    h.sockets.last.open();
    await settle();
    expect(h.states).toEqual(['open', 'connecting', 'open']);
  });

  it.each([408, 428, 500, 503])('%i: reconnects with capped exponential backoff and jitter', async (code) => {
    let random = 0;
    h = await openHarness({ backoff: BACKOFF, random: () => random });
    const waits: number[] = [];
    for (const r of [0, 0.999, 0, 0, 0, 0.5]) {
      random = r;
      h.sockets.last.disconnect(code);
      await settle();
      expect(h.connection.state).toBe('reconnecting');
      expect(h.connection.connectionInfo().detail).toContain(`(${code}: Connection Failure); reconnecting. Next attempt in`);
      const count = h.sockets.sockets.length;
      const wait = Math.min(...h.clock.pendingDelays());
      waits.push(wait);
      await h.clock.advance(wait - 1);
      expect(h.sockets.sockets).toHaveLength(count);
      await h.clock.advance(1);
      expect(h.sockets.sockets).toHaveLength(count + 1);
    }
    // Ceilings 1, 2, 4, 8, 8, 8 s; the wait is half the ceiling plus jitter up to the other half.
    expect(waits).toEqual([500, 1999, 2_000, 4_000, 4_000, 6_000]);
    h.sockets.last.open();
    await settle();
    expect(h.connection.state).toBe('open');
    // A successful open starts the backoff over.
    random = 0;
    h.sockets.last.disconnect(code);
    await settle();
    expect(h.clock.pendingDelays()).toEqual([500]);
  });

  it.each([401, 403])('%i: logged_out, no new socket, creds erased and the logout time kept', async (code) => {
    h = await openHarness({ backoff: BACKOFF });
    h.sockets.last.open();
    await settle();
    h.sockets.last.disconnect(code);
    await settle();
    expect(h.connection.state).toBe('logged_out');
    expect(h.connection.isReady()).toBe(false);
    expect(h.connection.connectionInfo().detail).toMatch(/link the phone again/);
    expect(h.clock.pendingDelays()).toEqual([]);
    await h.clock.advance(600_000);
    expect(h.sockets.sockets).toHaveLength(1);
    expect(await h.store.auth.readCreds(ACCOUNT_ID)).toBeUndefined();
    expect(await h.store.auth.readDeviceState(ACCOUNT_ID)).toEqual({ pausedUntil: null, pauseReason: null, loggedOutAt: h.clock.now() - 600_000 });
    await expect(h.connection.sendText('14151231234@s.whatsapp.net', 'hi', '3EB0000000000000000001')).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('440: replaced, stops and says another client uses the account; reconnect() takes it back', async () => {
    h = await openHarness({ backoff: BACKOFF });
    h.sockets.last.open();
    await settle();
    h.sockets.last.disconnect(440, 'Stream Errored (conflict)');
    await settle();
    expect(h.connection.state).toBe('replaced');
    expect(h.connection.connectionInfo().detail).toBe(
      'Another client is using this WhatsApp account (440): close the other session or program, then reconnect.',
    );
    await h.clock.advance(3_600_000);
    expect(h.sockets.sockets).toHaveLength(1);
    h.connection.reconnect();
    expect(h.sockets.sockets).toHaveLength(2);
    h.sockets.last.open();
    await settle();
    expect(h.states).toEqual(['open', 'replaced', 'connecting', 'open']);
  });

  it('tells onDisconnect each close it reacts to, with its code (none for a close without one), and not our own close', async () => {
    h = await openHarness({ backoff: BACKOFF, random: () => 0 });
    const codes: (number | null)[] = [];
    h.connection.onDisconnect((code) => codes.push(code));
    h.sockets.last.open();
    await settle();
    h.sockets.last.disconnect(515, 'Stream Errored (restart required)');
    await settle();
    h.sockets.last.open();
    await settle();
    h.sockets.last.disconnect(428);
    await settle();
    await h.clock.advance(Math.min(...h.clock.pendingDelays()));
    h.sockets.last.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error: new Error('no code'), date: new Date() } });
    await settle();
    await h.clock.advance(Math.min(...h.clock.pendingDelays()));
    h.sockets.last.disconnect(440, 'Stream Errored (conflict)');
    await settle();
    h.connection.reconnect();
    await h.connection.close();
    expect(codes).toEqual([515, 428, null, 440]);
  });

  it('drops a socket that does not open within openTimeoutMs and retries with backoff', async () => {
    h = await openHarness({ backoff: BACKOFF, openTimeoutMs: 10_000 });
    await h.clock.advance(9_999);
    expect(h.connection.state).toBe('connecting');
    await h.clock.advance(1);
    expect(h.connection.state).toBe('reconnecting');
    expect(h.sockets.sockets[0]!.ended).toBe(true);
    expect(h.connection.connectionInfo().detail).toBe(
      'The connection to WhatsApp was lost (408: WhatsApp did not complete the connection within 10 s); reconnecting. Next attempt in 750 ms.',
    );
    await h.clock.advance(750);
    expect(h.sockets.sockets).toHaveLength(2);
  });

  it('ignores events of a socket it has replaced', async () => {
    h = await openHarness({ backoff: BACKOFF });
    const first = h.sockets.last;
    first.disconnect(515);
    await settle();
    expect(h.sockets.sockets).toHaveLength(2);
    // The old socket's emitter was torn down; even a late "open" from it must change nothing.
    first.ev.emit('connection.update', { connection: 'open' });
    await settle();
    expect(h.connection.state).toBe('connecting');
  });

  it('close() ends the socket and every timer, and later events change nothing', async () => {
    h = await openHarness({ backoff: BACKOFF });
    h.sockets.last.disconnect(408);
    await settle();
    expect(h.clock.pendingDelays()).toHaveLength(1);
    await h.connection.close();
    expect(h.clock.pendingDelays()).toEqual([]);
    await h.clock.advance(60_000);
    expect(h.sockets.sockets).toHaveLength(1);
  });
});

describe('BaileysConnection: sending', () => {
  let h: Harness;
  const JID = '14151231234@s.whatsapp.net';
  beforeEach(async () => {
    h = await openHarness({ callTimeoutMs: 5_000 });
    h.sockets.last.open();
    await settle();
  });
  afterEach(async () => {
    await h.close();
  });

  it('sends text with the id generated at acceptance, and serves it back to Baileys for resends', async () => {
    await h.connection.sendText(JID, 'hello', '3EB0AAAAAAAAAAAAAAAAAA');
    expect(h.sockets.last.sent).toEqual([{ jid: JID, content: { text: 'hello', linkPreview: null }, messageId: '3EB0AAAAAAAAAAAAAAAAAA', at: h.clock.now() }]);
    const getMessage = h.sockets.last.options.getMessage;
    expect(await getMessage({ remoteJid: JID, fromMe: true, id: '3EB0AAAAAAAAAAAAAAAAAA' })).toMatchObject({ extendedTextMessage: { text: 'hello' } });
    // After a restart the in-memory copy is gone: the outbox's text serves.
    h.texts.set('3EB0BBBBBBBBBBBBBBBBBB', 'from the outbox');
    expect(await getMessage({ remoteJid: JID, fromMe: true, id: '3EB0BBBBBBBBBBBBBBBBBB' })).toEqual({ conversation: 'from the outbox' });
    expect(await getMessage({ remoteJid: JID, fromMe: true, id: '3EB0CCCCCCCCCCCCCCCCCC' })).toBeUndefined();
  });

  it('sends image, video, audio and document from the downloaded buffer with mimetype and file name', async () => {
    const buffer = Buffer.from('file bytes');
    await h.connection.sendMedia(JID, { kind: 'image', buffer, mimetype: 'image/png', fileName: 'a.png' }, '3EB00000000000000000A1');
    await h.connection.sendMedia(JID, { kind: 'video', buffer, mimetype: 'video/mp4', fileName: 'a.mp4' }, '3EB00000000000000000A2');
    await h.connection.sendMedia(JID, { kind: 'audio', buffer, mimetype: 'audio/mpeg', fileName: 'a.mp3' }, '3EB00000000000000000A3');
    await h.connection.sendMedia(JID, { kind: 'document', buffer, mimetype: 'application/pdf', fileName: 'a.pdf' }, '3EB00000000000000000A4');
    expect(h.sockets.last.sent.map((call) => [call.messageId, call.content])).toEqual([
      ['3EB00000000000000000A1', { image: buffer, mimetype: 'image/png' }],
      ['3EB00000000000000000A2', { video: buffer, mimetype: 'video/mp4' }],
      ['3EB00000000000000000A3', { audio: buffer, mimetype: 'audio/mpeg', ptt: false }],
      ['3EB00000000000000000A4', { document: buffer, mimetype: 'application/pdf', fileName: 'a.pdf' }],
    ]);
    // Media resends come from what was sent (the outbox only has the file's URL).
    expect(await h.sockets.last.options.getMessage({ id: '3EB00000000000000000A4' })).toMatchObject({
      documentMessage: { mimetype: 'application/pdf', fileName: 'a.pdf' },
    });
  });

  it('refuses an address that is not a WhatsApp JID as permanent', async () => {
    await expect(h.connection.sendText('status@broadcast', 'hi', '3EB0000000000000000001')).rejects.toEqual(
      new TransportError('permanent', 'status@broadcast is not a WhatsApp address this account can send to.'),
    );
    expect(h.sockets.last.sent).toEqual([]);
  });

  it('a send that does not answer in time is transient (retried with the same id)', async () => {
    h.sockets.last.send = () => new Promise(() => undefined);
    const sending = h.connection.sendText(JID, 'hi', '3EB0000000000000000001');
    const outcome = sending.catch((error: unknown) => error);
    await h.clock.advance(4_999);
    await h.clock.advance(1);
    expect(await outcome).toEqual(
      new TransportError('transient', 'WhatsApp did not answer the send in time; it will be tried again with the same id.'),
    );
    expect(h.connection.state).toBe('open');
  });

  it('a send on a connection that just closed (428) goes back untouched and the state moves at once', async () => {
    h.sockets.last.send = async () => {
      throw new Boom('Connection Closed', { statusCode: 428 });
    };
    await expect(h.connection.sendText(JID, 'hi', '3EB0000000000000000001')).rejects.toMatchObject({ kind: 'unavailable' });
    expect(h.connection.state).toBe('reconnecting');
  });

  it('any other send error is transient, with its message', async () => {
    h.sockets.last.send = async () => {
      throw new Error('not-acceptable');
    };
    await expect(h.connection.sendText(JID, 'hi', '3EB0000000000000000001')).rejects.toEqual(
      new TransportError('transient', 'WhatsApp failed while sending: not-acceptable'),
    );
  });

  it('resolves a phone to its real JID with onWhatsApp and caches the answer', async () => {
    // Brazil: the number as written has a 9th digit that the real JID does not.
    h.sockets.last.lookup = async () => [{ jid: '551187654321@s.whatsapp.net', exists: true }];
    expect(await h.connection.resolvePhone('5511987654321')).toEqual({ onWhatsApp: true, jid: '551187654321@s.whatsapp.net' });
    expect(await h.connection.resolvePhone('5511987654321')).toEqual({ onWhatsApp: true, jid: '551187654321@s.whatsapp.net' });
    expect(h.sockets.last.lookups).toEqual(['5511987654321']);
  });

  it('a number WhatsApp does not know is not on WhatsApp (and that is cached too)', async () => {
    h.sockets.last.lookup = async () => [];
    expect(await h.connection.resolvePhone('14150000000')).toEqual({ onWhatsApp: false });
    expect(await h.connection.resolvePhone('14150000000')).toEqual({ onWhatsApp: false });
    expect(h.sockets.last.lookups).toEqual(['14150000000']);
  });

  it('a lookup that hangs or answers nothing is transient, and is asked again next time', async () => {
    h.sockets.last.lookup = () => new Promise(() => undefined);
    const outcome = h.connection.resolvePhone('14151231234').catch((error: unknown) => error);
    await h.clock.advance(5_000);
    expect(await outcome).toEqual(
      new TransportError('transient', 'WhatsApp did not answer the number lookup in time; it will be tried again with the same id.'),
    );
    h.sockets.last.lookup = async () => undefined;
    await expect(h.connection.resolvePhone('14151231234')).rejects.toEqual(
      new TransportError('transient', 'WhatsApp did not answer the number lookup; it will be asked again.'),
    );
    expect(h.sockets.last.lookups).toEqual(['14151231234', '14151231234']);
  });

  it('refuses to send or look up while not open', async () => {
    h.sockets.last.disconnect(408);
    await settle();
    await expect(h.connection.sendText(JID, 'hi', '3EB0000000000000000001')).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(h.connection.resolvePhone('14151231234')).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('every call has a timeout: CallTimeoutError names what did not answer', () => {
    expect(new CallTimeoutError('WhatsApp (the group list)', 30_000).message).toBe('WhatsApp (the group list) did not answer within 30 s');
  });
});

describe('BaileysConnection: typing presence', () => {
  it('shows typing before a text for a time scaled to its length and bounded', async () => {
    const h = await openHarness({ typing: { msPerChar: 100, minMs: 500, maxMs: 2_000 } });
    try {
      h.sockets.last.open();
      await settle();
      const JID = '14151231234@s.whatsapp.net';
      const start = h.clock.now();
      for (const [text, typed] of [['hi', 500], ['hello there', 1_100], ['x'.repeat(500), 2_000]] as const) {
        const at = h.clock.now();
        const sending = h.connection.sendText(JID, text, `3EB0${String(text.length).padStart(18, '0')}`);
        await h.clock.advance(typed);
        await sending;
        const socket = h.sockets.last;
        expect(socket.presence.slice(-2)).toEqual([
          { type: 'composing', jid: JID, at },
          { type: 'paused', jid: JID, at: at + typed },
        ]);
        expect(socket.sent.at(-1)?.at).toBe(at + typed);
      }
      expect(h.clock.now() - start).toBe(3_600);
    } finally {
      await h.close();
    }
  });

  it('is off by default', async () => {
    const h = await openHarness();
    try {
      h.sockets.last.open();
      await settle();
      await h.connection.sendText('14151231234@s.whatsapp.net', 'hi', '3EB0000000000000000001');
      expect(h.sockets.last.presence).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe('BaileysConnection: directory sync', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
    expect(h.errors).toEqual([]);
  });

  it('fetches the groups at connect into the directory and serves their metadata to Baileys', async () => {
    const group = { id: '120363001234567890@g.us', subject: 'Sales team', owner: undefined, participants: [{ id: '14151231234@s.whatsapp.net' }] };
    h.sockets.last.groups = { [group.id]: group };
    h.sockets.last.open();
    await settle();
    await h.connection.directoryFlushed();
    expect(h.sockets.last.groupFetches).toBe(1);
    expect(h.directory.chats.get('120363001234567890@g.us')).toBe('Sales team');
    expect(await h.sockets.last.options.cachedGroupMetadata('120363001234567890@g.us')).toEqual(group);
    // A membership change drops the cached list, so Baileys fetches it afresh once.
    h.sockets.last.emit('group-participants.update', { id: group.id, author: 'x', participants: [], action: 'add' });
    await settle();
    expect(await h.sockets.last.options.cachedGroupMetadata('120363001234567890@g.us')).toBeUndefined();
  });

  it('files history, chats, contacts and incoming messages under phone JIDs, with the best name', async () => {
    const socket = h.sockets.last;
    socket.open();
    await settle();
    socket.emit('messaging-history.set', {
      chats: [{ id: '120363009999999999@g.us', name: 'Family' }, { id: '4915112345678@s.whatsapp.net' }],
      contacts: [{ id: '4915112345678@s.whatsapp.net', name: 'Jonas (saved)', notify: 'JJ' }],
      messages: [],
      lidPnMappings: [{ lid: '987654321012345@lid', pn: '447700900123@s.whatsapp.net' }],
      isLatest: true,
    });
    // A LID-addressed contact whose phone the history taught us; and one whose phone comes with it.
    socket.emit('contacts.upsert', [
      { id: '987654321012345@lid', notify: 'Priya' },
      { id: '111222333444555@lid', phoneNumber: '5511912345678@s.whatsapp.net', verifiedName: 'Loja Azul' },
    ]);
    // An incoming message from a LID sender, with its phone JID alongside.
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: '222333444555666@lid', remoteJidAlt: '16175550123@s.whatsapp.net', fromMe: false, id: 'IN1' },
          message: { conversation: 'hello' },
          pushName: 'Carla',
        },
        // A push name never replaces a saved name.
        { key: { remoteJid: '4915112345678@s.whatsapp.net', fromMe: false, id: 'IN2' }, message: { conversation: 'hi' }, pushName: 'Jonas P.' },
      ],
    });
    await h.connection.directoryFlushed();
    expect(Object.fromEntries(h.directory.chats)).toEqual({
      '120363009999999999@g.us': 'Family',
      '4915112345678@s.whatsapp.net': 'Jonas (saved)',
      '447700900123@s.whatsapp.net': 'Priya',
      '5511912345678@s.whatsapp.net': 'Loja Azul',
      '16175550123@s.whatsapp.net': 'Carla',
    });
  });

  it('a later lid-mapping.update files that LID under its phone from then on', async () => {
    const socket = h.sockets.last;
    socket.open();
    await settle();
    socket.emit('lid-mapping.update', { lid: '555666777888999@lid', pn: '61412345678@s.whatsapp.net' });
    socket.emit('contacts.update', [{ id: '555666777888999@lid', notify: 'Mia' }]);
    await h.connection.directoryFlushed();
    expect(h.directory.chats.get('61412345678@s.whatsapp.net')).toBe('Mia');
    expect(h.directory.chats.has('555666777888999@lid')).toBe(false);
  });

  it('seeds the LID map from the lid-mapping keys Baileys stored, across a restart', async () => {
    await h.store.auth.writeKeys(ACCOUNT_ID, [
      { type: 'lid-mapping', id: '33612345678', value: JSON.stringify('424242424242424') },
      { type: 'lid-mapping', id: '424242424242424_reverse', value: JSON.stringify('33612345678') },
    ]);
    const connection = await h.restart();
    h.sockets.last.open();
    await settle();
    h.sockets.last.emit('contacts.upsert', [{ id: '424242424242424@lid', notify: 'Léa' }]);
    await connection.directoryFlushed();
    expect(h.directory.chats.get('33612345678@s.whatsapp.net')).toBe('Léa');
  });
});

describe('Baileys itself', () => {
  it('closes with the DisconnectReason codes the policy is written for', () => {
    const { DisconnectReason } = loadBaileys();
    expect([
      DisconnectReason.restartRequired,
      DisconnectReason.timedOut,
      DisconnectReason.connectionClosed,
      DisconnectReason.badSession,
      DisconnectReason.unavailableService,
      DisconnectReason.loggedOut,
      DisconnectReason.forbidden,
      DisconnectReason.connectionReplaced,
    ]).toEqual([515, 408, 428, 500, 503, 401, 403, 440]);
  });
});

describe('BaileysConnection: a store that fails at start', () => {
  it('reports reconnecting and tries again after the backoff', async () => {
    const h = await openHarness({ backoff: BACKOFF });
    try {
      await h.connection.close();
      jest.spyOn(h.store.auth, 'readDeviceState').mockRejectedValueOnce(new Error('database is locked'));
      const errors: unknown[] = [];
      const connection = new BaileysConnection(
        { backoff: BACKOFF },
        {
          accountId: ACCOUNT_ID,
          phone: null,
          auth: h.store.auth,
          directory: h.directory,
          messageText: async () => undefined,
          makeSocket: h.sockets.make,
          clock: h.clock,
          random: () => 0,
          onError: (error) => errors.push(error),
        },
      );
      await connection.start();
      expect(connection.state).toBe('reconnecting');
      expect(connection.connectionInfo().detail).toBe('Could not start the connection: database is locked. Next attempt in 500 ms.');
      expect(errors).toEqual([new Error('database is locked')]);
      const before = h.sockets.sockets.length;
      await h.clock.advance(499);
      expect(h.sockets.sockets).toHaveLength(before);
      await h.clock.advance(1);
      expect(h.sockets.sockets).toHaveLength(before + 1);
      await connection.close();
    } finally {
      await h.close();
    }
  });
});
