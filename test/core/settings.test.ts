import { parseWorkspaceSettings } from '../../shared/hosting/settings';
import { storePathFor } from '../../shared/hosting/storage-paths';

describe('workspace settings', () => {
  it('fills defaults for empty editor fields', () => {
    expect(parseWorkspaceSettings({ quotaAllowance: '', gapMinSeconds: '' }, '/data/w.sqlite')).toEqual({
      ok: true,
      value: {
        storePath: '/data/w.sqlite',
        quotaAllowance: 1000,
        quotaPeriod: 'daily',
        refundDelayMinutes: 0,
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
        gapMinSeconds: '3',
        gapMaxSeconds: '6',
        capPerHour: '30',
        capPerDay: 200,
        allowPrivateFileUrls: 'true',
        dryRunPhones: '+1 510 556 6777, +44 7700 900123',
        initialToken: 'example-token-0123456789',
      },
      '/data/w.sqlite',
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        storePath: '/data/w.sqlite',
        quotaAllowance: 50,
        quotaPeriod: 'monthly',
        refundDelayMinutes: 120,
        gapMinSeconds: 3,
        gapMaxSeconds: 6,
        capPerHour: 30,
        capPerDay: 200,
        allowPrivateFileUrls: true,
        dryRunPhones: ['15105566777', '447700900123'],
        initialToken: 'example-token-0123456789',
      },
    });
  });

  it.each([
    [{ quotaAllowance: '-1' }, 'quotaAllowance', 'Setting "quotaAllowance" must be a number from 0 to 100000000; got "-1".'],
    [{ quotaPeriod: 'weekly' }, 'quotaPeriod', 'Setting "quotaPeriod" must be "none", "daily" or "monthly"; got "weekly".'],
    [{ gapMinSeconds: '3', gapMaxSeconds: '2' }, 'gapMaxSeconds', 'Setting "gapMaxSeconds" (2) must not be below "gapMinSeconds" (3).'],
    [{ capPerHour: 'lots' }, 'capPerHour', 'Setting "capPerHour" must be a number from 1 to 1000000; got "lots".'],
    [{ dryRunPhones: '+1 510, 12' }, 'dryRunPhones', 'Setting "dryRunPhones" has "+1 510", which is not a phone number in international format such as +14151231234.'],
    [{ initialToken: 'short' }, 'initialToken', 'Setting "initialToken" must be 16 to 128 letters, digits, "-" or "_".'],
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
