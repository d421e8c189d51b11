import { loadBaileys, type WAMessage } from '../../shared/transport/baileys/baileys-module';
import { RESTRICTED_REASON, WA_STATUS, explainAckError, fromMessageCapping, fromReachoutTimeLock } from '../../shared/transport/baileys/receipts';
import { settle } from './support/fake-clock';
import { ACCOUNT_ID, ME, openHarness, type Harness } from './support/harness';

const PEER = '14151231234@s.whatsapp.net';
const GROUP = '120363001234567890@g.us';
const HOUR = 3_600_000;

/** Our own message as Baileys upserts it after a send. */
function ownMessage(id: string, jid = PEER): WAMessage {
  return loadBaileys().generateWAMessageFromContent(jid, { extendedTextMessage: { text: 'hi' } }, { userJid: ME.id, messageId: id });
}

const OTHER = '14155550000@s.whatsapp.net';
const RESTRICTION = `${RESTRICTED_REASON}: it refused messages to 2 different contacts within an hour (error 463).`;

/** A 463 error ack for our message `id` sent to `jid`. */
function refusal463(id: string, jid = PEER) {
  return { key: { remoteJid: jid, fromMe: true, id }, update: { status: WA_STATUS.ERROR, messageStubParameters: ['463'] } };
}

/** WhatsApp refuses two different contacts (no LID known): the restriction that pauses the account. */
function restrict(h: Harness): void {
  h.sockets.last.emit('messages.update', [refusal463('E463A', PEER), refusal463('E463B', OTHER)]);
}

describe('BaileysConnection: message status', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness({ restrictionPauseMs: 6 * HOUR });
    h.sockets.last.open();
    await settle();
  });
  afterEach(async () => {
    await h.close();
    expect(h.errors).toEqual([]);
  });

  it('uses the WebMessageInfo status numbers Baileys reports', () => {
    const { WAMessageStatus } = loadBaileys();
    expect(WA_STATUS).toEqual({
      ERROR: WAMessageStatus.ERROR,
      PENDING: WAMessageStatus.PENDING,
      SERVER_ACK: WAMessageStatus.SERVER_ACK,
      DELIVERY_ACK: WAMessageStatus.DELIVERY_ACK,
      READ: WAMessageStatus.READ,
      PLAYED: WAMessageStatus.PLAYED,
    });
  });

  it('messages.update 3/4/5 → delivered/read/played; server acks and others’ messages are ignored', async () => {
    const key = (id: string, fromMe = true) => ({ remoteJid: PEER, fromMe, id });
    h.sockets.last.emit('messages.update', [
      { key: key('M2'), update: { status: WA_STATUS.SERVER_ACK } },
      { key: key('M3'), update: { status: WA_STATUS.DELIVERY_ACK } },
      { key: key('M4'), update: { status: WA_STATUS.READ } },
      { key: key('M5'), update: { status: WA_STATUS.PLAYED } },
      { key: key('THEIRS', false), update: { status: WA_STATUS.READ } },
      { key: key('EDIT'), update: { message: { conversation: 'edited' } } },
    ]);
    await settle();
    expect(h.statuses).toEqual([
      { messageId: 'M3', status: 'delivered' },
      { messageId: 'M4', status: 'read' },
      { messageId: 'M5', status: 'played' },
    ]);
  });

  it('group receipts come from message-receipt.update, per participant', async () => {
    h.sockets.last.emit('message-receipt.update', [
      { key: { remoteJid: GROUP, fromMe: true, id: 'G1' }, receipt: { userJid: PEER, receiptTimestamp: 1_800_000_000 } },
      { key: { remoteJid: GROUP, fromMe: true, id: 'G2' }, receipt: { userJid: PEER, readTimestamp: 1_800_000_000 } },
      { key: { remoteJid: GROUP, fromMe: true, id: 'G3' }, receipt: { userJid: PEER, playedTimestamp: 1_800_000_000 } },
    ]);
    await settle();
    expect(h.statuses).toEqual([
      { messageId: 'G1', status: 'delivered' },
      { messageId: 'G2', status: 'read' },
      { messageId: 'G3', status: 'played' },
    ]);
  });

  it('while Baileys buffers, a receipt for a message upserted in the same batch arrives merged into it', async () => {
    const socket = h.sockets.last;
    socket.ev.buffer();
    socket.emit('messages.upsert', { type: 'append', messages: [ownMessage('MERGED')] });
    socket.emit('messages.update', [{ key: { remoteJid: PEER, fromMe: true, id: 'MERGED' }, update: { status: WA_STATUS.DELIVERY_ACK } }]);
    socket.emit('messages.update', [{ key: { remoteJid: PEER, fromMe: true, id: 'MERGED' }, update: { status: WA_STATUS.READ } }]);
    socket.emit('messages.update', [{ key: { remoteJid: PEER, fromMe: true, id: 'ALONE' }, update: { status: WA_STATUS.DELIVERY_ACK } }]);
    socket.emit('messages.update', [{ key: { remoteJid: PEER, fromMe: true, id: 'ALONE' }, update: { status: WA_STATUS.PLAYED } }]);
    await settle();
    expect(h.statuses).toEqual([]);
    socket.ev.flush();
    await settle();
    // Baileys keeps the last status of each message; read implies delivered, played implies read.
    expect(h.statuses).toEqual([
      { messageId: 'ALONE', status: 'played' },
      { messageId: 'MERGED', status: 'read' },
    ]);
  });

  it('an error ack (status 0) fails the message with its code explained, without pausing for most codes', async () => {
    h.sockets.last.emit('messages.update', [
      { key: { remoteJid: PEER, fromMe: true, id: 'E479' }, update: { status: WA_STATUS.ERROR, messageStubParameters: ['479'] } },
      { key: { remoteJid: PEER, fromMe: true, id: 'E999' }, update: { status: WA_STATUS.ERROR, messageStubParameters: ['999'] } },
      { key: { remoteJid: PEER, fromMe: true, id: 'ENONE' }, update: { status: WA_STATUS.ERROR } },
    ]);
    await settle();
    expect(h.statuses).toEqual([
      { messageId: 'E479', status: 'failed', reason: "WhatsApp rejected the message as invalid (error 479), usually a stale session with the recipient's device" },
      { messageId: 'E999', status: 'failed', reason: 'WhatsApp refused the message (error 999)' },
      { messageId: 'ENONE', status: 'failed', reason: 'WhatsApp refused the message without saying why' },
    ]);
    expect(h.connection.state).toBe('open');
  });

  it('an error ack merged into a buffered upsert still fails the message', async () => {
    const socket = h.sockets.last;
    socket.ev.buffer();
    socket.emit('messages.upsert', { type: 'append', messages: [ownMessage('EBUF')] });
    socket.emit('messages.update', [{ key: { remoteJid: PEER, fromMe: true, id: 'EBUF' }, update: { status: WA_STATUS.ERROR, messageStubParameters: ['404'] } }]);
    socket.ev.flush();
    await settle();
    expect(h.statuses).toEqual([{ messageId: 'EBUF', status: 'failed', reason: 'WhatsApp did not find the recipient (error 404)' }]);
  });

  it('463s to two different contacts within an hour fail both and pause the account for the configured time; the queue waits, then sending resumes', async () => {
    const { ACCOUNT_RESTRICTED_TEXT } = loadBaileys();
    const start = h.clock.now();
    h.sockets.last.emit('messages.update', [
      { key: { remoteJid: PEER, fromMe: true, id: 'E463' }, update: { status: WA_STATUS.ERROR, messageStubParameters: ['463', ACCOUNT_RESTRICTED_TEXT] } },
    ]);
    await settle();
    expect(h.connection.state).toBe('open');
    await h.clock.advance(HOUR - 1);
    h.sockets.last.emit('messages.update', [refusal463('E463B', OTHER)]);
    await settle();
    expect(h.statuses).toEqual([
      { messageId: 'E463', status: 'failed', reason: 'WhatsApp refused to start a chat with this contact (error 463)' },
      { messageId: 'E463B', status: 'failed', reason: 'WhatsApp restricted this account from starting new chats (error 463)' },
    ]);
    expect(h.connection.state).toBe('paused');
    expect(h.connection.isReady()).toBe(false);
    const pausedAt = start + HOUR - 1;
    expect(h.connection.connectionInfo()).toMatchObject({ state: 'paused', detail: RESTRICTION, pauseReason: RESTRICTION, pausedUntil: pausedAt + 6 * HOUR });
    await expect(h.connection.sendText(PEER, 'hi', '3EB0000000000000000001')).rejects.toMatchObject({ kind: 'unavailable' });
    await h.clock.advance(6 * HOUR - 1);
    expect(h.connection.state).toBe('paused');
    await h.clock.advance(1);
    expect(h.connection.state).toBe('open');
    expect(h.connection.connectionInfo()).toMatchObject({ pauseReason: null, pausedUntil: null });
    expect(h.states).toEqual(['open', 'paused', 'open']);
    expect(await h.store.auth.readDeviceState(ACCOUNT_ID)).toEqual({ pausedUntil: null, pauseReason: null, loggedOutAt: null });
  });

  it('the same contact refused twice fails both messages and does not pause; nor do two contacts more than an hour apart', async () => {
    h.sockets.last.emit('messages.update', [refusal463('A1'), refusal463('A2')]);
    await settle();
    await h.clock.advance(HOUR);
    h.sockets.last.emit('messages.update', [refusal463('B1', OTHER)]);
    await settle();
    const reason = 'WhatsApp refused to start a chat with this contact (error 463)';
    expect(h.statuses).toEqual([
      { messageId: 'A1', status: 'failed', reason },
      { messageId: 'A2', status: 'failed', reason },
      { messageId: 'B1', status: 'failed', reason },
    ]);
    expect(h.connection.state).toBe('open');
    expect(h.connection.connectionInfo()).toMatchObject({ pauseReason: null, pausedUntil: null });
  });

  it('a 463 to a contact whose LID Baileys knows resends the same message, with the same id, to the LID once', async () => {
    const socket = h.sockets.last;
    const lid = '207011234567890@lid';
    socket.lidByPhone.set(PEER, lid);
    await h.connection.sendText(PEER, 'hello Ana', '3EB0000000000000000A01');
    socket.emit('messages.update', [refusal463('3EB0000000000000000A01')]);
    await settle();
    expect(socket.phoneLookups).toEqual([PEER]);
    expect(socket.relayed).toEqual([{ jid: lid, messageId: '3EB0000000000000000A01', message: { extendedTextMessage: { text: 'hello Ana' } }, at: h.clock.now() }]);
    // Not failed: the resend may well be delivered; its receipts come by the same id.
    expect(h.statuses).toEqual([]);
    socket.emit('messages.update', [{ key: { remoteJid: lid, fromMe: true, id: '3EB0000000000000000A01' }, update: { status: WA_STATUS.DELIVERY_ACK } }]);
    await settle();
    expect(h.statuses).toEqual([{ messageId: '3EB0000000000000000A01', status: 'delivered' }]);
    expect(h.connection.state).toBe('open');
  });

  it('a resend refused at the LID too fails the message, is not resent again, and counts for its phone contact', async () => {
    const socket = h.sockets.last;
    const lid = '207011234567890@lid';
    socket.lidByPhone.set(PEER, lid);
    await h.connection.sendText(PEER, 'hello Ana', '3EB0000000000000000A02');
    socket.emit('messages.update', [refusal463('3EB0000000000000000A02')]);
    await settle();
    socket.emit('messages.update', [refusal463('3EB0000000000000000A02', lid)]);
    await settle();
    expect(socket.relayed).toHaveLength(1);
    expect(h.statuses).toEqual([
      { messageId: '3EB0000000000000000A02', status: 'failed', reason: 'WhatsApp refused to start a chat with this contact (error 463), also when resent to its LID' },
    ]);
    expect(h.connection.state).toBe('open');
    // The same contact by its phone JID is still one contact; another contact within the hour pauses.
    socket.emit('messages.update', [refusal463('A3')]);
    await settle();
    expect(h.connection.state).toBe('open');
    socket.emit('messages.update', [refusal463('B2', OTHER)]);
    await settle();
    expect(h.connection.connectionInfo()).toMatchObject({ state: 'paused', pauseReason: RESTRICTION });
  });

  it('without a LID mapping there is no resend: the message fails', async () => {
    const socket = h.sockets.last;
    await h.connection.sendText(PEER, 'hello Ana', '3EB0000000000000000A03');
    socket.emit('messages.update', [refusal463('3EB0000000000000000A03')]);
    await settle();
    expect(socket.phoneLookups).toEqual([PEER]);
    expect(socket.relayed).toEqual([]);
    expect(h.statuses).toEqual([{ messageId: '3EB0000000000000000A03', status: 'failed', reason: 'WhatsApp refused to start a chat with this contact (error 463)' }]);
  });

  it('a LID resend that fails to go out counts the 463 as it came', async () => {
    const socket = h.sockets.last;
    socket.lidByPhone.set(PEER, '207011234567890@lid');
    socket.relay = async () => {
      throw new Error('Connection Closed');
    };
    await h.connection.sendText(PEER, 'hello Ana', '3EB0000000000000000A04');
    socket.emit('messages.update', [refusal463('3EB0000000000000000A04')]);
    await settle();
    expect(socket.relayed).toHaveLength(1);
    expect(h.statuses).toEqual([{ messageId: '3EB0000000000000000A04', status: 'failed', reason: 'WhatsApp refused to start a chat with this contact (error 463)' }]);
  });

  it('a 463 for a message sent to a LID or a group is not resent', async () => {
    const socket = h.sockets.last;
    socket.lidByPhone.set(PEER, '207011234567890@lid');
    socket.emit('messages.update', [refusal463('L1', '207011234567890@lid'), refusal463('G1', GROUP)]);
    await settle();
    expect(socket.phoneLookups).toEqual([]);
    expect(socket.relayed).toEqual([]);
    expect(h.statuses.map((status) => status.messageId)).toEqual(['L1', 'G1']);
  });

  it('a pause survives a restart: the new connection opens paused until the same time, with its reason', async () => {
    const start = h.clock.now();
    restrict(h);
    await settle();
    expect(await h.store.auth.readDeviceState(ACCOUNT_ID)).toEqual({ pausedUntil: start + 6 * HOUR, pauseReason: RESTRICTION, loggedOutAt: null });
    await h.clock.advance(HOUR);
    const again = await h.restart();
    h.sockets.last.open();
    await settle();
    expect(again.state).toBe('paused');
    expect(again.connectionInfo()).toMatchObject({ pausedUntil: start + 6 * HOUR, pauseReason: RESTRICTION, detail: RESTRICTION });
    await h.clock.advance(5 * HOUR);
    expect(again.state).toBe('open');
  });

  it('reachoutTimeLock pauses until the time WhatsApp gives, and its lifting resumes at once', async () => {
    const ends = new Date(h.clock.now() + 2 * HOUR);
    h.sockets.last.emit('connection.update', {
      reachoutTimeLock: { isActive: true, timeEnforcementEnds: ends, enforcementType: loadBaileys().ReachoutTimelockEnforcementType.BIZ_QUALITY },
    });
    await settle();
    expect(h.connection.connectionInfo()).toMatchObject({
      state: 'paused',
      pausedUntil: ends.getTime(),
      detail: `WhatsApp restricted this account from starting new chats (BIZ_QUALITY) until ${ends.toISOString()}.`,
    });
    h.sockets.last.emit('connection.update', { reachoutTimeLock: { isActive: false } });
    await settle();
    expect(h.connection.state).toBe('open');
  });

  it('message-capping.update CAPPED pauses until the cycle ends; warnings do not pause', async () => {
    const cycleEnd = Math.floor(h.clock.now() / 1000) + 3 * 3600;
    h.sockets.last.emit('message-capping.update', { capping_status: loadBaileys().NewChatMessageCappingStatusType.FIRST_WARNING });
    await settle();
    expect(h.connection.state).toBe('open');
    h.sockets.last.emit('message-capping.update', {
      capping_status: loadBaileys().NewChatMessageCappingStatusType.CAPPED,
      used_quota: 50,
      total_quota: 50,
      cycle_end_timestamp: String(cycleEnd),
    });
    await settle();
    expect(h.connection.connectionInfo()).toMatchObject({
      state: 'paused',
      pausedUntil: cycleEnd * 1000,
      detail: `WhatsApp capped how many new chats this account may start (50 of 50 used) until ${new Date(cycleEnd * 1000).toISOString()}.`,
    });
    await h.clock.advance(3 * HOUR);
    expect(h.connection.state).toBe('open');
  });

  it('several pauses hold together: the account sends again when the last one ends', async () => {
    const now = h.clock.now();
    h.sockets.last.emit('connection.update', { reachoutTimeLock: { isActive: true, timeEnforcementEnds: new Date(now + HOUR) } });
    h.sockets.last.emit('message-capping.update', {
      capping_status: loadBaileys().NewChatMessageCappingStatusType.CAPPED,
      cycle_end_timestamp: String(Math.floor((now + 2 * HOUR) / 1000)),
    });
    await settle();
    expect(h.connection.connectionInfo().pausedUntil).toBe(now + 2 * HOUR);
    await h.clock.advance(HOUR);
    expect(h.connection.state).toBe('paused');
    await h.clock.advance(HOUR);
    expect(h.connection.state).toBe('open');
  });

  it('resume() lifts every pause at once', async () => {
    restrict(h);
    await settle();
    expect(h.connection.state).toBe('paused');
    h.connection.resume();
    await settle();
    expect(h.connection.state).toBe('open');
    expect(await h.store.auth.readDeviceState(ACCOUNT_ID)).toMatchObject({ pausedUntil: null });
  });

  it('a pause shows only while connected: reconnecting wins, and the pause returns on open', async () => {
    restrict(h);
    await settle();
    h.sockets.last.disconnect(408);
    await settle();
    expect(h.connection.state).toBe('reconnecting');
    // The pause's reason stays known while the state says why the connection is down.
    expect(h.connection.connectionInfo()).toMatchObject({ pauseReason: RESTRICTION, detail: expect.stringContaining('reconnecting') });
    await h.clock.advance(1_000);
    h.sockets.last.open();
    await settle();
    expect(h.connection.state).toBe('paused');
  });
});

describe('receipts: pure translations', () => {
  it('explains error ack codes in words', () => {
    expect(explainAckError('463')).toBe('WhatsApp restricted this account from starting new chats (error 463)');
    expect(explainAckError('429')).toBe('WhatsApp is rate-limiting this account (error 429)');
    expect(explainAckError(undefined)).toBe('WhatsApp refused the message without saying why');
  });

  it('a reachout lock without an end pauses for the default time (until null)', () => {
    expect(fromReachoutTimeLock({ isActive: true })).toEqual({ kind: 'pause', source: 'reachout', until: null, reason: `${RESTRICTED_REASON}.` });
    expect(fromReachoutTimeLock({ isActive: false })).toEqual({ kind: 'resume', source: 'reachout' });
  });

  it('message capping accepts seconds or milliseconds', () => {
    const capped = loadBaileys().NewChatMessageCappingStatusType.CAPPED;
    expect(fromMessageCapping({ capping_status: capped, cycle_end_timestamp: '1800000000' })).toMatchObject({ until: 1_800_000_000_000 });
    expect(fromMessageCapping({ capping_status: capped, cycle_end_timestamp: '1800000000000' })).toMatchObject({ until: 1_800_000_000_000 });
    expect(fromMessageCapping({ capping_status: capped })).toMatchObject({ kind: 'pause', until: null });
    expect(fromMessageCapping({})).toEqual({ kind: 'resume', source: 'capping' });
  });
});
