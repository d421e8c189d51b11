import { join } from 'node:path';
import { parseWorkspaceSettings } from '../../shared/hosting/settings';
import { workspaceOptionsFor } from '../../shared/hosting/workspace-options';
import { tempDir } from '../support/temp';
import { storePathFor } from '../../shared/hosting/storage-paths';
import { pgConnectionFor, storeKeyOf } from '../../shared/hosting/store-choice';

describe('workspace settings', () => {
  it('fills defaults for empty editor fields', () => {
    expect(parseWorkspaceSettings({ quotaAllowance: '', gapMinSeconds: '' }, '/data/w.sqlite')).toEqual({
      ok: true,
      value: {
        store: { kind: 'sqlite', path: '/data/w.sqlite' },
        storeKey: '/data/w.sqlite',
        quotaAllowance: 1000,
        quotaPeriod: 'daily',
        refundDelayMinutes: 0,
        retentionDays: 30,
        gapMinSeconds: 1.5,
        gapMaxSeconds: 2.5,
        allowPrivateFileUrls: false,
        dryRunPhones: [],
      },
    });
  });

  it('reads strings as the editors send them', () => {
    const parsed = parseWorkspaceSettings(
      {
        quotaAllowance: '50',
        quotaPeriod: 'monthly',
        refundDelayMinutes: '120',
        retentionDays: '0',
        gapMinSeconds: '3',
        gapMaxSeconds: '6',
        capPerHour: '30',
        capPerDay: 200,
        allowPrivateFileUrls: 'true',
        dryRunPhones: '+1 510 556 6777, +44 7700 900123',
        initialToken: 'example-token-0123456789',
        metricsToken: '  scrape+Token/0123456789=  ',
      },
      '/data/w.sqlite',
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        store: { kind: 'sqlite', path: '/data/w.sqlite' },
        storeKey: '/data/w.sqlite',
        quotaAllowance: 50,
        quotaPeriod: 'monthly',
        refundDelayMinutes: 120,
        retentionDays: 0,
        gapMinSeconds: 3,
        gapMaxSeconds: 6,
        capPerHour: 30,
        capPerDay: 200,
        allowPrivateFileUrls: true,
        dryRunPhones: ['15105566777', '447700900123'],
        initialToken: 'example-token-0123456789',
        metricsToken: 'scrape+Token/0123456789=',
      },
    });
  });

  it.each([
    [{ quotaAllowance: '-1' }, 'quotaAllowance', 'Setting "quotaAllowance" must be a number from 0 to 100000000; got "-1".'],
    [{ quotaPeriod: 'weekly' }, 'quotaPeriod', 'Setting "quotaPeriod" must be "none", "daily" or "monthly"; got "weekly".'],
    [{ gapMinSeconds: '3', gapMaxSeconds: '2' }, 'gapMaxSeconds', 'Setting "gapMaxSeconds" (2) must not be below "gapMinSeconds" (3).'],
    [{ capPerHour: 'lots' }, 'capPerHour', 'Setting "capPerHour" must be a number from 1 to 1000000; got "lots".'],
    [{ dryRunPhones: '+1 510, 12' }, 'dryRunPhones', 'Setting "dryRunPhones" has "+1 510", which is not a phone number in international format such as +14151231234.'],
    [{ retentionDays: '0.5' }, 'retentionDays', 'Setting "retentionDays" must be 0 (keep everything) or a number of days from 1 to 3650; got "0.5".'],
    [{ retentionDays: '-1' }, 'retentionDays', 'Setting "retentionDays" must be 0 (keep everything) or a number of days from 1 to 3650; got "-1".'],
    [{ retentionDays: 'a month' }, 'retentionDays', 'Setting "retentionDays" must be 0 (keep everything) or a number of days from 1 to 3650; got "a month".'],
    [{ retentionDays: 3651 }, 'retentionDays', 'Setting "retentionDays" must be 0 (keep everything) or a number of days from 1 to 3650; got 3651.'],
    [{ initialToken: 'short' }, 'initialToken', 'Setting "initialToken" must be 16 to 128 letters, digits, "-" or "_".'],
    [{ metricsToken: 'short-token' }, 'metricsToken', 'Setting "metricsToken" must be 16 to 256 visible characters (letters, digits or punctuation, no spaces).'],
    [{ metricsToken: 'has a space in it, long enough' }, 'metricsToken', 'Setting "metricsToken" must be 16 to 256 visible characters (letters, digits or punctuation, no spaces).'],
  ])('refuses %j with a sentence naming the setting', (raw, field, message) => {
    expect(parseWorkspaceSettings(raw, '/x')).toEqual({ ok: false, rejection: { status: 400, field, message } });
  });

  it('names only the first wrong setting when several are wrong, always in the same order', () => {
    const named = (raw: Record<string, string>) => {
      const parsed = parseWorkspaceSettings(raw, '/x');
      return parsed.ok ? 'nothing' : parsed.rejection.field;
    };
    const wrong = { dryRunPhones: '12', quotaAllowance: '-1', capPerDay: '0', gapMaxSeconds: 'x' };
    expect(named(wrong)).toBe('gapMaxSeconds');
    expect(named({ ...wrong, gapMaxSeconds: '' })).toBe('capPerDay');
    expect(named({ ...wrong, gapMaxSeconds: '', capPerDay: '' })).toBe('quotaAllowance');
    expect(named({ ...wrong, gapMaxSeconds: '', capPerDay: '', quotaAllowance: '' })).toBe('dryRunPhones');
  });

  it('keeps store files under the data folder whatever the workspace is called', () => {
    expect(storePathFor('/data', 'Sales team')).toBe('/data/whatsapp/Sales-team.sqlite');
    expect(storePathFor('/data', '../../etc/passwd')).toBe('/data/whatsapp/etc-passwd.sqlite');
    expect(storePathFor('/data', '  ')).toBe('/data/whatsapp/workspace.sqlite');
  });
});

describe('the store setting', () => {
  const pg = { storeKind: 'postgres', pgHost: 'db.internal', pgDatabase: 'crm', pgUser: 'wahook' };

  it('is the SQLite file when not chosen (credentials and flows saved before the choice existed)', () => {
    for (const storeKind of [undefined, '', 'sqlite']) {
      const parsed = parseWorkspaceSettings({ storeKind, pgHost: 'ignored here', pgPort: 'x' }, '/data/w.sqlite', 'w');
      expect(parsed.ok && parsed.value.store).toEqual({ kind: 'sqlite', path: '/data/w.sqlite' });
    }
  });

  it('reads PostgreSQL with port 5432, SSL off and the schema derived from the workspace name', () => {
    const parsed = parseWorkspaceSettings({ ...pg, pgPassword: ' s3cret ' }, '/data/w.sqlite', 'Sales team');
    expect(parsed.ok && parsed.value.store).toEqual({
      kind: 'postgres',
      host: 'db.internal',
      port: 5432,
      database: 'crm',
      user: 'wahook',
      password: ' s3cret ',
      ssl: 'off',
      schema: expect.stringMatching(/^wahook_sales_team_[0-9a-f]{8}$/),
    });
    expect(parsed.ok && parsed.value.storeKey).toMatch(/^postgres:\/\/wahook@db\.internal:5432\/crm\?schema=wahook_sales_team_[0-9a-f]{8}$/);
    const plain = parseWorkspaceSettings(pg, '/x', 'sales');
    expect(plain.ok && plain.value.storeKey).toBe('postgres://wahook@db.internal:5432/crm?schema=wahook_sales');
  });

  it('takes the port, SSL and schema as given, and never puts the password in the key', () => {
    const parsed = parseWorkspaceSettings({ ...pg, pgPort: '6543', pgSsl: 'verify', pgSchema: 'crm_whatsapp', pgPassword: 'hunter2' }, '/x');
    if (!parsed.ok || parsed.value.store.kind !== 'postgres') throw new Error('not postgres');
    expect(parsed.value.storeKey).toBe('postgres://wahook@db.internal:6543/crm?schema=crm_whatsapp');
    expect(storeKeyOf({ ...parsed.value.store, host: '::1' })).toBe('postgres://wahook@[::1]:6543/crm?schema=crm_whatsapp');
    expect(pgConnectionFor(parsed.value.store)).toEqual({ host: 'db.internal', port: 6543, database: 'crm', user: 'wahook', password: 'hunter2', ssl: true });
    expect(pgConnectionFor({ ...parsed.value.store, ssl: 'require' }).ssl).toEqual({ rejectUnauthorized: false });
    expect(pgConnectionFor({ ...parsed.value.store, ssl: 'off' }).ssl).toBe(false);
  });

  it.each([
    [{ storeKind: 'mysql' }, 'storeKind', 'Setting "storeKind" must be "sqlite" or "postgres"; got "mysql".'],
    [{ ...pg, pgHost: '' }, 'pgHost', 'Setting "pgHost" is required for a PostgreSQL store: the PostgreSQL server\'s host name or address.'],
    [{ ...pg, pgHost: 'db internal' }, 'pgHost', 'Setting "pgHost" must be one word of at most 255 characters, without spaces; got "db internal".'],
    [{ ...pg, pgPort: '0' }, 'pgPort', 'Setting "pgPort" must be a number from 1 to 65535; got "0".'],
    [{ ...pg, pgPort: '5432.5' }, 'pgPort', 'Setting "pgPort" must be a whole number from 1 to 65535; got "5432.5".'],
    [{ ...pg, pgPort: 'pg' }, 'pgPort', 'Setting "pgPort" must be a number from 1 to 65535; got "pg".'],
    [{ ...pg, pgDatabase: ' ' }, 'pgDatabase', 'Setting "pgDatabase" is required for a PostgreSQL store: the database that holds the workspace\'s schema.'],
    [{ ...pg, pgUser: undefined }, 'pgUser', 'Setting "pgUser" is required for a PostgreSQL store: the user the store connects as.'],
    [{ ...pg, pgSsl: 'yes' }, 'pgSsl', 'Setting "pgSsl" must be "off", "require" or "verify"; got "yes".'],
    [{ ...pg, pgSchema: 'Sales-Team' }, 'pgSchema', 'Setting "pgSchema" must be lower-case letters, digits and underscores, at most 48, not starting with a digit; got "Sales-Team".'],
    [{ ...pg, pgSchema: '1st' }, 'pgSchema', 'Setting "pgSchema" must be lower-case letters, digits and underscores, at most 48, not starting with a digit; got "1st".'],
  ])('refuses %j with a sentence naming the setting', (raw, field, message) => {
    expect(parseWorkspaceSettings({ ...raw, pgPassword: 'hunter2' }, '/x')).toEqual({ ok: false, rejection: { status: 400, field, message } });
  });

  it('reads the store before the other settings, and never names the password', () => {
    const parsed = parseWorkspaceSettings({ ...pg, pgHost: '', quotaAllowance: '-1', pgPassword: 'hunter2' }, '/x');
    expect(!parsed.ok && parsed.rejection.field).toBe('pgHost');
    expect(JSON.stringify(parsed)).not.toContain('hunter2');
  });
});

describe('retentionDays', () => {
  it('is 30 days unless set, 0 keeps everything, and the workspace gets it in milliseconds', () => {
    const dir = tempDir();
    const stores: { close(): Promise<void> }[] = [];
    const keepMs = (raw: Record<string, unknown>) => {
      const parsed = parseWorkspaceSettings(raw, join(dir.path, 'retention.sqlite'));
      if (!parsed.ok) throw new Error(parsed.rejection.message);
      const options = workspaceOptionsFor(parsed.value, {});
      stores.push(options.store);
      return [parsed.value.retentionDays, options.retention?.keepMs];
    };
    const day = 24 * 3_600_000;
    expect(keepMs({})).toEqual([30, 30 * day]);
    expect(keepMs({ retentionDays: '' })).toEqual([30, 30 * day]);
    expect(keepMs({ retentionDays: '0' })).toEqual([0, 0]);
    expect(keepMs({ retentionDays: 1 })).toEqual([1, day]);
    expect(keepMs({ retentionDays: ' 1.5 ' })).toEqual([1.5, 1.5 * day]);
    expect(keepMs({ retentionDays: '3650' })).toEqual([3650, 3650 * day]);
    return Promise.all(stores.map((store) => store.close())).then(() => dir.cleanup());
  });
});

describe('WAHOOK_OWN_ACCOUNTS', () => {
  it('keeps a process from holding accounts when it is "false", and only then', () => {
    const dir = tempDir();
    const parsed = parseWorkspaceSettings({}, join(dir.path, 'own-accounts.sqlite'));
    if (!parsed.ok) throw new Error(parsed.rejection.message);
    const stores: { close(): Promise<void> }[] = [];
    const connects = (value: string | undefined) => {
      const options = workspaceOptionsFor(parsed.value, value === undefined ? {} : { WAHOOK_OWN_ACCOUNTS: value });
      stores.push(options.store);
      return options.connectAccounts !== false;
    };
    expect([connects(undefined), connects('true'), connects(''), connects('FALSE'), connects('false')]).toEqual([true, true, true, false, false]);
    return Promise.all(stores.map((store) => store.close())).then(() => dir.cleanup());
  });
});

describe('the per-minute cap and the warm-up', () => {
  it('reads capPerMinute beside the other caps, and gives the dispatcher all three', () => {
    const dir = tempDir();
    const parsed = parseWorkspaceSettings({ capPerMinute: '4', capPerHour: '60', capPerDay: 300 }, join(dir.path, 'caps.sqlite'));
    if (!parsed.ok) throw new Error(parsed.rejection.message);
    expect([parsed.value.capPerMinute, parsed.value.capPerHour, parsed.value.capPerDay, parsed.value.warmup]).toEqual([4, 60, 300, undefined]);
    const options = workspaceOptionsFor(parsed.value, {});
    expect(options.pacing).toEqual({ gap: { minMs: 1500, maxMs: 2500 }, caps: { perMinute: 4, perHour: 60, perDay: 300 } });
    return options.store.close().then(() => dir.cleanup());
  });

  it('is off unless warmupDays is above 0; the start percent defaults to 10 and becomes a fraction', () => {
    for (const warmupDays of [undefined, '', 0, '0']) {
      const parsed = parseWorkspaceSettings({ capPerHour: '60', warmupDays, warmupStartPercent: '50' }, '/x');
      expect(parsed.ok && parsed.value.warmup).toBeUndefined();
    }
    const parsed = parseWorkspaceSettings({ capPerDay: '200', warmupDays: '14' }, '/x');
    expect(parsed.ok && parsed.value.warmup).toEqual({ days: 14, startPercent: 10 });
    const dir = tempDir();
    const given = parseWorkspaceSettings({ capPerDay: '200', warmupDays: '7', warmupStartPercent: '25' }, join(dir.path, 'warm.sqlite'));
    if (!given.ok) throw new Error(given.rejection.message);
    const options = workspaceOptionsFor(given.value, {});
    expect(options.pacing?.warmup).toEqual({ days: 7, startFraction: 0.25 });
    return options.store.close().then(() => dir.cleanup());
  });

  it.each([
    [{ capPerMinute: '0' }, 'capPerMinute', 'Setting "capPerMinute" must be a number from 1 to 100000; got "0".'],
    [{ capPerHour: '60', warmupDays: '-1' }, 'warmupDays', 'Setting "warmupDays" must be a number from 0 to 365; got "-1".'],
    [{ capPerHour: '60', warmupDays: '7', warmupStartPercent: '0' }, 'warmupStartPercent', 'Setting "warmupStartPercent" must be a number from 1 to 100; got "0".'],
    [
      { warmupDays: '7' },
      'warmupDays',
      'Setting "warmupDays" ramps the caps up, but no cap is set: set "capPerMinute", "capPerHour" or "capPerDay" too, or set "warmupDays" to 0.',
    ],
  ])('refuses %j with a sentence naming the setting', (raw, field, message) => {
    expect(parseWorkspaceSettings(raw, '/x')).toEqual({ ok: false, rejection: { status: 400, field, message } });
  });
});

describe('the Cloud API number', () => {
  const full = { cloudApiPhoneNumberId: ' 106540352242922 ', cloudApiAccessToken: 'EAAtoken', cloudApiAppSecret: 'secret', cloudApiVerifyToken: 'my verify token' };
  const parse = (raw: Record<string, unknown>) => parseWorkspaceSettings(raw, '/data/whatsapp/default.sqlite');

  it('is off while all four fields are blank, and read trimmed when all are set', () => {
    const off = parse({ cloudApiPhoneNumberId: '', cloudApiAccessToken: ' ' });
    expect(off.ok && off.value.cloudApi).toBeUndefined();
    const on = parse(full);
    expect(on.ok && on.value.cloudApi).toEqual({ phoneNumberId: '106540352242922', accessToken: 'EAAtoken', appSecret: 'secret', verifyToken: 'my verify token' });
  });

  it.each([
    [{ ...full, cloudApiPhoneNumberId: '' }, 'cloudApiPhoneNumberId', 'Setting "cloudApiPhoneNumberId" is needed for the WhatsApp Cloud API number: set the phone number ID (WhatsApp > API Setup in the Meta app), or clear all four Cloud API fields.'],
    [{ ...full, cloudApiAccessToken: undefined }, 'cloudApiAccessToken', 'Setting "cloudApiAccessToken" is needed for the WhatsApp Cloud API number: set the access token (a System User token of the business), or clear all four Cloud API fields.'],
    [{ ...full, cloudApiAppSecret: ' ' }, 'cloudApiAppSecret', 'Setting "cloudApiAppSecret" is needed for the WhatsApp Cloud API number: set the app secret (App settings > Basic), which checks the webhook signatures, or clear all four Cloud API fields.'],
    [{ ...full, cloudApiVerifyToken: '' }, 'cloudApiVerifyToken', 'Setting "cloudApiVerifyToken" is needed for the WhatsApp Cloud API number: set the verify token, the text you choose and enter with the callback URL in the Meta app, or clear all four Cloud API fields.'],
    [{ ...full, cloudApiPhoneNumberId: '+1 555 010 0000' }, 'cloudApiPhoneNumberId', 'Setting "cloudApiPhoneNumberId" must be the number\'s ID in digits, as Meta\'s API Setup page shows it (not the phone number itself); got "+1 555 010 0000".'],
    [{ ...full, cloudApiAccessToken: 'EAA token' }, 'cloudApiAccessToken', 'Setting "cloudApiAccessToken" must be the token without spaces or line breaks.'],
  ])('names the field at fault: %j', (raw, field, message) => {
    expect(parse(raw)).toEqual({ ok: false, rejection: { status: 400, field, message } });
  });

  it('gives the workspace the number, with the test hook\'s Graph API URL only when it is set', async () => {
    const dir = tempDir();
    const parsed = parseWorkspaceSettings(full, join(dir.path, 'cloud.sqlite'));
    if (!parsed.ok) throw new Error(parsed.rejection.message);
    const plain = workspaceOptionsFor(parsed.value, {});
    const hooked = workspaceOptionsFor(parsed.value, { WAHOOK_GRAPH_API_URL: ' http://127.0.0.1:9 ' });
    expect(plain.cloudApi).toEqual({ numbers: [parsed.value.cloudApi] });
    expect(hooked.cloudApi).toEqual({ numbers: [{ ...parsed.value.cloudApi, graphBaseUrl: 'http://127.0.0.1:9' }] });
    const none = parseWorkspaceSettings({}, join(dir.path, 'none.sqlite'));
    if (!none.ok) throw new Error(none.rejection.message);
    const without = workspaceOptionsFor(none.value, { WAHOOK_GRAPH_API_URL: 'http://127.0.0.1:9' });
    expect(without.cloudApi).toBeUndefined();
    await Promise.all([plain.store.close(), hooked.store.close(), without.store.close()]);
    dir.cleanup();
  });
});
