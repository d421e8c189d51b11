import { describeDisconnect, disconnectAction, reconnectDelay } from '../../shared/transport/baileys/disconnect-policy';
import { PhoneCache } from '../../shared/transport/baileys/phone-cache';
import { LidMap, userJid } from '../../shared/transport/baileys/directory-sync';

describe('disconnect policy', () => {
  it.each([
    [515, 'restart'],
    [408, 'reconnect'],
    [428, 'reconnect'],
    [500, 'reconnect'],
    [503, 'reconnect'],
    [undefined, 'reconnect'],
    [418, 'reconnect'],
    [401, 'logged_out'],
    [403, 'logged_out'],
    [411, 'logged_out'],
    [440, 'replaced'],
  ] as const)('code %s → %s', (code, action) => {
    expect(disconnectAction(code)).toBe(action);
  });

  it('says what happened and what to do', () => {
    expect(describeDisconnect('logged_out', 401)).toBe('WhatsApp logged this device out (401): link the phone again; queued messages wait for it.');
    expect(describeDisconnect('reconnect', undefined, undefined)).toBe('The connection to WhatsApp was lost (no reason given); reconnecting.');
    expect(describeDisconnect('reconnect', 408, 'WebSocket Error (connect ECONNREFUSED 127.0.0.1:9)')).toBe(
      'The connection to WhatsApp was lost (408: WebSocket Error (connect ECONNREFUSED 127.0.0.1:9)); reconnecting.',
    );
  });

  it('backs off exponentially up to the cap, with jitter between half and all of the ceiling', () => {
    const policy = { baseDelayMs: 1_000, maxDelayMs: 60_000 };
    expect([1, 2, 3, 7, 8, 30].map((attempt) => reconnectDelay(policy, attempt, () => 0))).toEqual([500, 1_000, 2_000, 30_000, 30_000, 30_000]);
    expect([1, 2, 3, 7, 8].map((attempt) => reconnectDelay(policy, attempt, () => 1))).toEqual([1_000, 2_000, 4_000, 60_000, 60_000]);
  });
});

describe('PhoneCache', () => {
  const options = { foundTtlMs: 1_000, missingTtlMs: 100, maxEntries: 2 };

  it('keeps answers for their time to live (shorter for "not on WhatsApp")', async () => {
    let now = 0;
    const cache = new PhoneCache(options, () => now);
    const asked: string[] = [];
    const ask = async (digits: string) => {
      asked.push(digits);
      return digits === '1' ? { onWhatsApp: true as const, jid: '1@s.whatsapp.net' } : { onWhatsApp: false as const };
    };
    await cache.resolve('1', ask);
    await cache.resolve('2', ask);
    now = 99;
    await cache.resolve('1', ask);
    await cache.resolve('2', ask);
    expect(asked).toEqual(['1', '2']);
    now = 100;
    await cache.resolve('2', ask);
    now = 1_000;
    await cache.resolve('1', ask);
    expect(asked).toEqual(['1', '2', '2', '1']);
  });

  it('asks once for concurrent lookups of a number, does not cache failures, and drops the oldest beyond its size', async () => {
    const cache = new PhoneCache(options, () => 0);
    let calls = 0;
    let release!: () => void;
    const slow = () => {
      calls++;
      return new Promise<{ onWhatsApp: false }>((resolve) => (release = () => resolve({ onWhatsApp: false })));
    };
    const both = Promise.all([cache.resolve('1', slow), cache.resolve('1', slow)]);
    release();
    expect(await both).toEqual([{ onWhatsApp: false }, { onWhatsApp: false }]);
    expect(calls).toBe(1);
    await expect(cache.resolve('9', () => Promise.reject(new Error('hiccup')))).rejects.toThrow('hiccup');
    expect(cache.get('9')).toBeUndefined();
    cache.set('2', { onWhatsApp: false });
    cache.set('3', { onWhatsApp: false });
    expect([cache.get('1'), cache.size]).toEqual([undefined, 2]);
  });
});

describe('LidMap', () => {
  it('files a LID under its phone JID once known, and drops device suffixes and non-chats', () => {
    const lids = new LidMap();
    expect(lids.preferred('123456789@lid')).toBe('123456789@lid');
    lids.add('123456789:7@lid', '14151231234:3@s.whatsapp.net');
    expect(lids.preferred('123456789@lid')).toBe('14151231234@s.whatsapp.net');
    expect(lids.lidFor('14151231234@s.whatsapp.net')).toBe('123456789@lid');
    expect(userJid('14151231234:12@s.whatsapp.net')).toBe('14151231234@s.whatsapp.net');
    expect(userJid('14151231234@c.us')).toBe('14151231234@s.whatsapp.net');
    expect([userJid('status@broadcast'), userJid('120363@newsletter'), userJid(undefined)]).toEqual([undefined, undefined, undefined]);
    // A pair in the wrong order is not a mapping.
    lids.add('14151231234@s.whatsapp.net', '999@lid');
    expect(lids.size).toBe(1);
  });
});
