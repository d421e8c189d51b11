import { join } from 'node:path';
import { linkCommand } from '../../shared/cli/link';
import { storeChoiceFromArgument } from '../../shared/cli/store-argument';
import { SqliteStore } from '../../shared/store/sqlite';
import { qrTerminal } from '../../shared/transport/linking';
import { until } from '../support/fake-transport';
import { TEST_PG_URL, throwawaySchema } from '../support/postgres';
import { tempDir } from '../support/temp';
import { FakeSockets } from './support/fake-socket';
import { primeLinkedAuth } from './support/harness';

const ME = { id: '14155550123:7@s.whatsapp.net', name: 'Bea' };

describe('wahook link', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: string;
  let sockets: FakeSockets;
  let printed: string[];
  beforeEach(() => {
    dir = tempDir('wahook-cli-');
    store = join(dir.path, 'store.sqlite');
    sockets = new FakeSockets(Date.now);
    printed = [];
  });
  afterEach(() => dir.cleanup());

  const run = (options: { pairingPhone?: string } = {}, signal?: AbortSignal) =>
    linkCommand({ store: { kind: 'sqlite', path: store }, ...options }, (text) => printed.push(text), { baileys: { makeSocket: sockets.make } }, signal);

  it('prints each QR in the terminal and exits 0 once the phone is linked, leaving other accounts unconnected', async () => {
    const before = new SqliteStore({ path: store });
    await before.accounts.put({ id: 'wa-15105566777', kind: 'baileys', phone: '15105566777', name: null, createdAt: 1, connectedAt: 1, active: true });
    await primeLinkedAuth(before, 'wa-15105566777');
    await before.close();

    const exit = run();
    await until(() => sockets.sockets.length === 1);
    // Only the linking socket: the engine that may be running holds the existing account's socket.
    expect(sockets.last.options.auth.creds.me).toBeUndefined();
    sockets.last.emit('connection.update', { qr: '2@ref-one' });
    await until(() => printed.length === 1);
    expect(printed[0]).toBe(`${await qrTerminal('2@ref-one')}\nScan this code in WhatsApp: Settings → Linked devices → Link a device. It changes every 20 s.`);
    sockets.last.emit('creds.update', { me: ME });
    sockets.last.disconnect(515);
    expect(await exit).toBe(0);
    expect(printed.slice(1)).toEqual([
      'Linked +14155550123 (Bea) as account wa-14155550123.',
      'An engine already running on this store picks the account up when it restarts.',
    ]);
    expect(sockets.sockets).toHaveLength(1);
    const after = new SqliteStore({ path: store });
    expect((await after.accounts.list()).map((account) => account.id)).toEqual(['wa-15105566777', 'wa-14155550123']);
    expect(await after.auth.readCreds('wa-14155550123')).toContain('14155550123:7@s.whatsapp.net');
    await after.close();
  });

  it('prints the pairing code for --pairing-code', async () => {
    const exit = run({ pairingPhone: '+1 415 555 0123' });
    await until(() => sockets.sockets.length === 1);
    sockets.last.emit('connection.update', { qr: '2@ref' });
    await until(() => printed.length === 1);
    expect(printed).toEqual(['In WhatsApp on +14155550123: Settings → Linked devices → Link a device → Link with phone number, and enter ABCD-1234']);
    sockets.last.emit('creds.update', { me: ME });
    sockets.last.disconnect(515);
    expect(await exit).toBe(0);
  });

  it('exits 1 with the reason when linking fails or is interrupted', async () => {
    const expired = run();
    await until(() => sockets.sockets.length === 1);
    sockets.last.disconnect(408, 'QR refs attempts ended');
    expect(await expired).toBe(1);
    expect(printed).toEqual(['No one scanned the QR code in time: start linking again.']);

    const stop = new AbortController();
    const interrupted = run({}, stop.signal);
    await until(() => sockets.sockets.length === 2);
    stop.abort();
    expect(await interrupted).toBe(1);
    expect(printed.at(-1)).toBe('Linking was cancelled.');
  });

  it('links into a PostgreSQL schema given as --store postgres://…', async () => {
    const schema = throwawaySchema();
    try {
      const choice = storeChoiceFromArgument(`${TEST_PG_URL}?schema=${schema.name}`);
      if (!choice.ok) throw new Error(choice.rejection.message);
      const exit = linkCommand({ store: choice.value }, (text) => printed.push(text), { baileys: { makeSocket: sockets.make } });
      await until(() => sockets.sockets.length === 1);
      sockets.last.emit('creds.update', { me: ME });
      sockets.last.disconnect(515);
      expect(await exit).toBe(0);
      expect(printed).toEqual(['Linked +14155550123 (Bea) as account wa-14155550123.', 'An engine already running on this store picks the account up when it restarts.']);
      const after = schema.store();
      expect((await after.accounts.list()).map((account) => account.id)).toEqual(['wa-14155550123']);
      expect(await after.auth.readCreds('wa-14155550123')).toContain('14155550123:7@s.whatsapp.net');
    } finally {
      await schema.drop();
    }
  });
});
