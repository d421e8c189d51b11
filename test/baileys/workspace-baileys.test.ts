import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import type { MessageChange } from '../../shared/model';
import { SqliteStore } from '../../shared/store/sqlite';
import { loadBaileys } from '../../shared/transport/baileys/baileys-module';
import { WA_STATUS } from '../../shared/transport/baileys/receipts';
import type { QrCode } from '../../shared/transport/linking';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { Workspace, type WorkspaceOptions } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { tempDir } from '../support/temp';
import { FakeClock, settle } from './support/fake-clock';
import { FakeSockets } from './support/fake-socket';
import { primeLinkedAuth } from './support/harness';

const HOUR = 3_600_000;
const PHONE = '14155550123';
const ME = { id: `${PHONE}:5@s.whatsapp.net`, name: 'Bea', lid: '99887766554433@lid' };

interface Setup {
  readonly workspace: Workspace;
  readonly store: SqliteStore;
  readonly clock: FakeClock;
  readonly sockets: FakeSockets;
  readonly changes: MessageChange[];
  readonly errors: unknown[];
  readonly path: string;
  close(): Promise<void>;
}

async function setup(options: Partial<WorkspaceOptions> = {}, before?: (store: SqliteStore, clock: FakeClock) => Promise<void>): Promise<Setup> {
  const dir = tempDir('wahook-ws-baileys-');
  const path = join(dir.path, 'store.sqlite');
  const store = new SqliteStore({ path });
  const clock = new FakeClock();
  const sockets = new FakeSockets(() => clock.now());
  const errors: unknown[] = [];
  await before?.(store, clock);
  const workspace = await Workspace.open({
    store,
    now: () => clock.now(),
    pacing: { gap: { minMs: 1, maxMs: 2 } },
    quota: { period: 'none', allowance: 10 },
    onError: (error) => errors.push(error),
    ...options,
    baileys: { makeSocket: sockets.make, clock, ...options.baileys },
  });
  const changes: MessageChange[] = [];
  workspace.onMessageChange((change) => changes.push(change));
  // Connections load their auth before opening a socket.
  await settle();
  return {
    workspace,
    store,
    clock,
    sockets,
    changes,
    errors,
    path,
    close: async () => {
      await workspace.close();
      dir.cleanup();
    },
  };
}

async function post(workspace: Workspace, payload: object): Promise<string> {
  const answer = await handleWebhookCall(workspace, {
    method: 'POST',
    contentType: 'application/json',
    body: JSON.stringify(payload),
    token: workspace.webhookState().token,
    remoteAddress: null,
  });
  expect(answer.status).toBe(200);
  return (answer.body as { data: { message_id: string } }).data.message_id.slice('wa_backend:'.length);
}

function authRows(path: string): number {
  const db = new DatabaseSync(path);
  try {
    return (db.prepare('SELECT (SELECT count(*) FROM auth_creds) + (SELECT count(*) FROM auth_keys) AS n').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const linkedAccount = { id: `wa-${PHONE}`, kind: 'baileys' as const, phone: PHONE, name: 'Bea', createdAt: 1, connectedAt: 1, active: true };

describe('Workspace with linked accounts (fake sockets)', () => {
  let s: Setup;
  afterEach(async () => {
    await s.close();
    expect(s.errors).toEqual([]);
  });

  it('links by QR: QR text and PNG as they rotate, then the account, its auth stored, connected without relinking', async () => {
    s = await setup();
    const handle = s.workspace.startLink();
    await settle();
    const qrs: QrCode[] = [];
    handle.onQr((qr) => qrs.push(qr));
    const socket = s.sockets.last;
    expect(socket.options.auth.creds.me).toBeUndefined();
    socket.emit('connection.update', { qr: '2@first-ref,noise,identity,adv' });
    socket.emit('connection.update', { qr: '2@second-ref,noise,identity,adv' });
    await until(() => qrs.length === 2);
    expect(qrs.map((qr) => qr.qr)).toEqual(['2@first-ref,noise,identity,adv', '2@second-ref,noise,identity,adv']);
    for (const qr of qrs) expect(qr.dataUrl).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]{200,}$/);
    expect(handle.qr?.qr).toBe('2@second-ref,noise,identity,adv');

    // The phone scanned: Baileys stores who we are, then WhatsApp asks for a new connection (515).
    socket.emit('creds.update', { me: ME, platform: 'android' });
    socket.disconnect(515, 'Stream Errored (restart required)');
    const account = await handle.linked;
    expect(account).toEqual({ id: `wa-${PHONE}`, kind: 'baileys', phone: PHONE, name: 'Bea', createdAt: s.clock.now(), connectedAt: s.clock.now(), active: true });
    expect(s.workspace.accounts()).toEqual([account]);

    // The account connects on its own with the stored creds: no QR, no link.
    await settle();
    expect(s.sockets.sockets).toHaveLength(2);
    expect(s.sockets.last.options.auth.creds.me).toEqual(ME);
    s.sockets.last.open();
    await until(() => s.workspace.connection(account.id)?.state === 'open');
    expect(JSON.parse((await s.store.auth.readCreds(account.id))!).me).toEqual(ME);
  });

  it('links by pairing code for a phone: asks once the socket talks to WhatsApp, shows no QR', async () => {
    s = await setup();
    const handle = s.workspace.startLink({ pairingPhone: '+1 (415) 555-0123' });
    const codes: string[] = [];
    const qrs: QrCode[] = [];
    handle.onPairingCode((code) => codes.push(code));
    handle.onQr((qr) => qrs.push(qr));
    await settle();
    const socket = s.sockets.last;
    socket.emit('connection.update', { qr: '2@ref' });
    socket.emit('connection.update', { qr: '2@ref-2' });
    await until(() => codes.length === 1);
    expect(socket.pairingRequests).toEqual([PHONE]);
    expect(codes).toEqual(['ABCD1234']);
    expect(handle.pairingCode).toBe('ABCD1234');
    socket.emit('creds.update', { me: ME });
    socket.disconnect(515);
    expect(await handle.linked).toMatchObject({ id: `wa-${PHONE}`, phone: PHONE });
    expect(qrs).toEqual([]);
  });

  it('refuses a pairing phone that is not a phone number', async () => {
    s = await setup();
    expect(() => s.workspace.startLink({ pairingPhone: '0415 555' })).toThrow(
      'The pairing phone "0415 555" is not a phone number in international format, e.g. +14151231234.',
    );
  });

  it('a QR nobody scans ends the link with a sentence, and leaves no auth behind', async () => {
    s = await setup();
    const handle = s.workspace.startLink();
    await settle();
    s.sockets.last.emit('connection.update', { qr: '2@ref' });
    s.sockets.last.disconnect(408, 'QR refs attempts ended');
    await expect(handle.linked).rejects.toThrow('No one scanned the QR code in time: start linking again.');
    await settle();
    expect(authRows(s.path)).toBe(0);
    expect(s.workspace.accounts()).toEqual([]);
  });

  it('a cancelled link rejects and leaves no auth behind', async () => {
    s = await setup();
    const handle = s.workspace.startLink();
    await settle();
    await handle.cancel();
    await expect(handle.linked).rejects.toThrow('Linking was cancelled.');
    await settle();
    expect(s.sockets.last.ended).toBe(true);
    expect(authRows(s.path)).toBe(0);
  });

  it('sends through the account once open: phone resolved, our id used, receipts tracked; it is the default account', async () => {
    s = await setup({}, async (store) => {
      await store.accounts.put({ ...linkedAccount, connectedAt: null });
      await primeLinkedAuth(store, linkedAccount.id, ME);
    });
    s.sockets.last.lookup = async () => [{ jid: '551187654321@s.whatsapp.net', exists: true }];
    s.sockets.last.open();
    await until(() => s.workspace.accounts()[0]?.connectedAt === s.clock.now());
    expect(s.workspace.accounts()[0]).toMatchObject({ phone: PHONE, name: 'Bea', active: true });
    const id = await post(s.workspace, { action: 'send', phone: '+55 11 98765-4321', text: 'olá' });
    await until(async () => (await s.workspace.message(id))?.status === 'sent');
    expect(s.sockets.last.sent.map((call) => [call.jid, call.messageId, call.content])).toEqual([['551187654321@s.whatsapp.net', id, { text: 'olá', linkPreview: null }]]);
    s.sockets.last.emit('messages.update', [{ key: { remoteJid: '551187654321@s.whatsapp.net', fromMe: true, id }, update: { status: WA_STATUS.READ } }]);
    await until(async () => (await s.workspace.message(id))?.status === 'read');
    expect(s.changes.filter((change) => change.messageId === id).map((change) => change.status)).toEqual(['queued', 'sending', 'sent', 'read']);
  });

  it('a 463 fails a sent message and refunds it; a second contact refused within the hour pauses the account with its reason, and the queue waits', async () => {
    s = await setup({}, async (store) => {
      await store.accounts.put(linkedAccount);
      await primeLinkedAuth(store, linkedAccount.id, ME);
    });
    s.sockets.last.open();
    await until(() => s.workspace.connection(linkedAccount.id)?.state === 'open');
    const refuse = (id: string, jid: string) =>
      s.sockets.last.emit('messages.update', [{ key: { remoteJid: jid, fromMe: true, id }, update: { status: WA_STATUS.ERROR, messageStubParameters: ['463'] } }]);
    const first = await post(s.workspace, { action: 'send', jid: '14151231234@s.whatsapp.net', text: 'one' });
    const other = await post(s.workspace, { action: 'send', jid: '14155550000@s.whatsapp.net', text: 'two' });
    await until(async () => (await s.workspace.message(other))?.status === 'sent');
    refuse(first, '14151231234@s.whatsapp.net');
    await until(async () => (await s.workspace.message(first))?.status === 'failed');
    expect((await s.workspace.message(first))?.reason).toBe('WhatsApp refused to start a chat with this contact (error 463)');
    expect(s.workspace.connection(linkedAccount.id)).toMatchObject({ state: 'open', pauseReason: null });
    refuse(other, '14155550000@s.whatsapp.net');
    await until(() => s.workspace.connection(linkedAccount.id)?.state === 'paused');
    expect((await s.workspace.message(other))?.reason).toBe('WhatsApp restricted this account from starting new chats (error 463)');
    expect((await s.workspace.quota()).used).toBe(0);
    const reason = 'WhatsApp restricted this account from starting new chats: it refused messages to 2 different contacts within an hour (error 463).';
    expect(s.workspace.connection(linkedAccount.id)).toMatchObject({ detail: reason, pauseReason: reason, pausedUntil: expect.any(Number) });
    const third = await post(s.workspace, { action: 'send', jid: '14151231234@s.whatsapp.net', text: 'three' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await s.workspace.message(third))?.status).toBe('queued');
    expect(s.sockets.last.sent).toHaveLength(2);
    expect(s.workspace.resumeAccount(linkedAccount.id)).toBe(true);
    await until(async () => (await s.workspace.message(third))?.status === 'sent');
    expect(s.workspace.connection(linkedAccount.id)).toMatchObject({ state: 'open', pauseReason: null, pausedUntil: null });
  });

  it('logged out: the account becomes inactive, its queue waits, then fails with a refund after the TTL', async () => {
    s = await setup({ baileys: { loggedOutTtlMs: 24 * HOUR } }, async (store) => {
      await store.accounts.put(linkedAccount);
      await primeLinkedAuth(store, linkedAccount.id, ME);
    });
    s.sockets.last.open();
    await until(() => s.workspace.connection(linkedAccount.id)?.state === 'open');
    s.sockets.last.disconnect(401, 'Connection Failure');
    await until(() => s.workspace.accounts()[0]?.active === false);
    expect(s.workspace.connection(linkedAccount.id)).toMatchObject({ state: 'logged_out', detail: expect.stringMatching(/link the phone again/) });
    const loggedOutAt = s.clock.now();
    // A request naming the account still queues (nothing tells it apart before sending, as in the seed).
    const early = await post(s.workspace, { action: 'send', jid: '14151231234@s.whatsapp.net', text: 'early', whatsapp_account_phone: `+${PHONE}` });
    await s.clock.advance(12 * HOUR);
    const late = await post(s.workspace, { action: 'send', jid: '14151231234@s.whatsapp.net', text: 'late', whatsapp_account_phone: `+${PHONE}` });
    expect((await s.workspace.quota()).used).toBe(2);
    await s.clock.advance(12 * HOUR - 1);
    expect((await s.workspace.message(early))?.status).toBe('queued');
    await s.clock.advance(1);
    await until(async () => (await s.workspace.message(early))?.status === 'failed');
    expect(s.clock.now()).toBe(loggedOutAt + 24 * HOUR);
    expect((await s.workspace.message(early))?.reason).toBe('WhatsApp logged this account out and the phone was not linked again within 24 h');
    expect((await s.workspace.message(late))?.status).toBe('queued');
    expect((await s.workspace.quota()).used).toBe(1);
    await s.clock.advance(12 * HOUR);
    await until(async () => (await s.workspace.message(late))?.status === 'failed');
    expect((await s.workspace.quota()).used).toBe(0);
    expect(s.changes.filter((change) => change.status === 'failed').map((change) => change.messageId)).toEqual([early, late]);
  });

  it('relinking the same phone keeps the account and sends what waited', async () => {
    s = await setup({}, async (store) => {
      await store.accounts.put({ ...linkedAccount, active: false });
      await store.auth.writeDeviceState(linkedAccount.id, { pausedUntil: null, pauseReason: null, loggedOutAt: 1 });
    });
    expect(s.workspace.connection(linkedAccount.id)?.state).toBe('logged_out');
    const waiting = await post(s.workspace, { action: 'send', jid: '14151231234@s.whatsapp.net', text: 'waited', whatsapp_account_phone: `+${PHONE}` });
    const handle = s.workspace.startLink();
    await settle();
    const linking = s.sockets.last;
    linking.emit('creds.update', { me: ME });
    linking.disconnect(515);
    expect(await handle.linked).toMatchObject({ id: linkedAccount.id, active: true, createdAt: 1 });
    await settle();
    s.sockets.last.open();
    await until(async () => (await s.workspace.message(waiting))?.status === 'sent');
    expect(s.sockets.last.sent.map((call) => call.messageId)).toEqual([waiting]);
    expect(await s.store.auth.readDeviceState(linkedAccount.id)).toEqual({ pausedUntil: null, pauseReason: null, loggedOutAt: null });
  });

  it('unlink logs the device out on WhatsApp, erases its auth, removes the account and refunds its queue', async () => {
    s = await setup({}, async (store) => {
      await store.accounts.put(linkedAccount);
      await primeLinkedAuth(store, linkedAccount.id, ME);
    });
    const socket = s.sockets.last;
    socket.open();
    await until(() => s.workspace.connection(linkedAccount.id)?.state === 'open');
    // Paused, so the message below stays queued until the unlink.
    socket.emit('message-capping.update', { capping_status: loadBaileys().NewChatMessageCappingStatusType.CAPPED });
    await until(() => s.workspace.connection(linkedAccount.id)?.state === 'paused');
    const queued = await post(s.workspace, { action: 'send', jid: '14151231234@s.whatsapp.net', text: 'never sent' });
    await s.workspace.unlink(linkedAccount.id);
    expect(socket.loggedOut).toBe(true);
    expect(s.workspace.accounts()).toEqual([]);
    expect(authRows(s.path)).toBe(0);
    expect(await s.workspace.message(queued)).toMatchObject({ status: 'failed', reason: 'The WhatsApp account was unlinked before this message was sent' });
    expect((await s.workspace.quota()).used).toBe(0);
  });

  it('reports every account with its connection state and tells listeners of changes', async () => {
    s = await setup({}, async (store) => {
      await store.accounts.put(linkedAccount);
      await primeLinkedAuth(store, linkedAccount.id, ME);
    });
    await s.workspace.addDryRunAccount('15105566777');
    const seen: string[] = [];
    s.workspace.onAccountChange((connection) => seen.push(`${connection.account.id}:${connection.state}`));
    expect(s.workspace.connections().map((c) => [c.account.id, c.state])).toEqual([
      [linkedAccount.id, 'connecting'],
      ['dry-run-15105566777', 'open'],
    ]);
    s.sockets.last.open();
    await until(() => seen.length === 1);
    s.sockets.last.disconnect(440);
    await until(() => seen.length === 2);
    expect(seen).toEqual([`${linkedAccount.id}:open`, `${linkedAccount.id}:replaced`]);
    expect(s.workspace.connection(linkedAccount.id)?.detail).toMatch(/Another client is using this WhatsApp account/);
    expect(s.workspace.reconnectAccount(linkedAccount.id)).toBe(true);
    expect(s.workspace.reconnectAccount('dry-run-15105566777')).toBe(false);
  });

  it('connectAccounts: false opens no socket for existing accounts', async () => {
    s = await setup({ connectAccounts: false }, async (store) => {
      await store.accounts.put(linkedAccount);
      await primeLinkedAuth(store, linkedAccount.id, ME);
    });
    await settle();
    expect(s.sockets.sockets).toEqual([]);
    expect(s.workspace.connection(linkedAccount.id)?.state).toBeNull();
  });
});
