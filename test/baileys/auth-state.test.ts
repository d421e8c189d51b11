import type { WorkspaceStore } from '../../shared/store/types';
import { isLinked, loadAuthState, readLidMappings } from '../../shared/transport/baileys/auth-state';
import { loadBaileys, type SignalDataSet } from '../../shared/transport/baileys/baileys-module';
import { SILENT_LOGGER } from '../../shared/transport/baileys/logger';
import { STORE_KINDS, type StorePlace } from '../support/store-kinds';

describe.each(STORE_KINDS)('Baileys auth state in the $name store', (kind) => {
  let place: StorePlace;
  let store: WorkspaceStore;
  const deps = (accountId = 'acc') => ({ repository: store.auth, accountId, now: () => 1_000, logger: SILENT_LOGGER });

  beforeEach(() => {
    place = kind.place();
    store = place.open();
  });
  afterEach(async () => {
    await place.cleanup();
  });

  const reopen = async () => {
    await store.close();
    store = place.open();
  };

  it('returns nothing for an account without auth unless asked to create it', async () => {
    expect(await loadAuthState(deps(), false)).toBeUndefined();
    const created = await loadAuthState(deps(), true);
    expect(isLinked(created!.state.creds)).toBe(false);
    expect(await store.auth.readCreds('acc')).toBeDefined();
  });

  it('keeps creds with their binary keys across a restart, and saves every creds.update', async () => {
    const first = (await loadAuthState(deps(), true))!;
    await first.saveCreds({ me: { id: '15105566777:4@s.whatsapp.net', name: 'Ana', lid: '123456789@lid' }, routingInfo: Buffer.from([1, 2, 3]) });
    await reopen();
    const again = (await loadAuthState(deps(), false))!;
    const { creds } = again.state;
    expect(isLinked(creds)).toBe(true);
    expect(creds.me).toEqual({ id: '15105566777:4@s.whatsapp.net', name: 'Ana', lid: '123456789@lid' });
    expect(Buffer.isBuffer(creds.noiseKey.private)).toBe(true);
    expect(Buffer.from(creds.noiseKey.private)).toEqual(Buffer.from(first.state.creds.noiseKey.private));
    expect(Buffer.from(creds.signedIdentityKey.public)).toEqual(Buffer.from(first.state.creds.signedIdentityKey.public));
    expect(creds.signedPreKey.keyId).toBe(first.state.creds.signedPreKey.keyId);
    expect(creds.routingInfo).toEqual(Buffer.from([1, 2, 3]));
  });

  it('stores every signal key type (v7 included) and gives each back as Baileys wrote it', async () => {
    const { proto } = loadBaileys();
    const auth = (await loadAuthState(deps(), true))!;
    const data: SignalDataSet = {
      'pre-key': { '1': { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) } },
      session: { '14151231234.0': Buffer.from('session record') },
      'sender-key': { '120363@g.us::14151231234::0': Buffer.from('sender key') },
      'sender-key-memory': { '120363@g.us': { '14151231234:0@s.whatsapp.net': true } },
      'app-state-sync-key': { AAAAAQ: proto.Message.AppStateSyncKeyData.fromObject({ keyData: Buffer.alloc(32, 7), timestamp: 1_700_000_000 }) },
      'app-state-sync-version': { regular: { version: 3, hash: Buffer.alloc(128, 9), indexValueMap: { abc: { valueMac: Buffer.from([4, 5]) } } } },
      'lid-mapping': { '14151231234': '987654321', '987654321_reverse': '14151231234' },
      'device-list': { '14151231234': ['0', '2'] },
      tctoken: { '14151231234@s.whatsapp.net': { token: Buffer.from('tc token'), timestamp: '1700000000' } },
      'identity-key': { '14151231234.0': Buffer.alloc(33, 5) },
    };
    await auth.state.keys.set(data);
    await reopen();
    const { keys } = (await loadAuthState(deps(), false))!.state;
    expect(await keys.get('pre-key', ['1', '2'])).toEqual({ '1': { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) } });
    expect(await keys.get('session', ['14151231234.0'])).toEqual({ '14151231234.0': Buffer.from('session record') });
    expect(await keys.get('sender-key', ['120363@g.us::14151231234::0'])).toEqual({ '120363@g.us::14151231234::0': Buffer.from('sender key') });
    expect(await keys.get('sender-key-memory', ['120363@g.us'])).toEqual({ '120363@g.us': { '14151231234:0@s.whatsapp.net': true } });
    const appKey = (await keys.get('app-state-sync-key', ['AAAAAQ'])).AAAAAQ!;
    expect(appKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(Buffer.from(appKey.keyData!)).toEqual(Buffer.alloc(32, 7));
    expect(await keys.get('app-state-sync-version', ['regular'])).toEqual({
      regular: { version: 3, hash: Buffer.alloc(128, 9), indexValueMap: { abc: { valueMac: Buffer.from([4, 5]) } } },
    });
    expect(await keys.get('lid-mapping', ['14151231234', '987654321_reverse'])).toEqual({ '14151231234': '987654321', '987654321_reverse': '14151231234' });
    expect(await keys.get('device-list', ['14151231234'])).toEqual({ '14151231234': ['0', '2'] });
    expect(await keys.get('tctoken', ['14151231234@s.whatsapp.net'])).toEqual({
      '14151231234@s.whatsapp.net': { token: Buffer.from('tc token'), timestamp: '1700000000' },
    });
    expect(await keys.get('identity-key', ['14151231234.0'])).toEqual({ '14151231234.0': Buffer.alloc(33, 5) });
    expect(await readLidMappings(store.auth, 'acc')).toEqual([{ lid: '987654321@lid', pn: '14151231234@s.whatsapp.net' }]);
  });

  it('a null value deletes a key, in the same commit as the other writes', async () => {
    const auth = (await loadAuthState(deps(), true))!;
    await auth.state.keys.set({ 'pre-key': { '1': { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) }, '2': { public: Buffer.alloc(32, 3), private: Buffer.alloc(32, 4) } } });
    await auth.state.keys.set({ 'pre-key': { '1': null, '3': { public: Buffer.alloc(32, 5), private: Buffer.alloc(32, 6) } } });
    expect([...(await store.auth.listKeys('acc', 'pre-key')).keys()].sort()).toEqual(['2', '3']);
  });

  it('keeps accounts apart, moves one onto another (relink) and erases one (unlink)', async () => {
    const a = (await loadAuthState(deps('a'), true))!;
    await a.saveCreds({ me: { id: '1@s.whatsapp.net' } });
    await a.state.keys.set({ session: { x: Buffer.from('a') } });
    const b = (await loadAuthState(deps('b'), true))!;
    await b.state.keys.set({ session: { y: Buffer.from('b') } });
    await store.auth.writeDeviceState('b', { pausedUntil: 5, pauseReason: 'r', loggedOutAt: 6 });
    await store.auth.move('a', 'b');
    expect(await store.auth.readCreds('a')).toBeUndefined();
    expect([...(await store.auth.listKeys('b', 'session')).keys()]).toEqual(['x']);
    expect(await store.auth.readDeviceState('b')).toEqual({ pausedUntil: null, pauseReason: null, loggedOutAt: null });
    expect((await loadAuthState(deps('b'), false))!.state.creds.me).toEqual({ id: '1@s.whatsapp.net' });
    await store.auth.clear('b');
    expect(await store.auth.readCreds('b')).toBeUndefined();
    expect((await store.auth.listKeys('b', 'session')).size).toBe(0);
  });
});
