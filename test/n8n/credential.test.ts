import { WhatsAppWorkspaceApi } from '../../credentials/WhatsAppWorkspaceApi.credentials';
import { settingsFromCredential } from '../../nodes/n8n/common/workspace-access';

const properties = new WhatsAppWorkspaceApi().properties;
const field = (name: string) => properties.find((property) => property.name === name)!;

describe('the WhatsApp Workspace credential', () => {
  it('offers the embedded SQLite file (the default) or PostgreSQL', () => {
    expect(field('storeKind')).toMatchObject({ displayName: 'Store', type: 'options', default: 'sqlite' });
    expect(field('storeKind').options!.map((option) => ('name' in option ? option.name : ''))).toEqual(['Embedded (SQLite File)', 'PostgreSQL']);
  });

  it("asks the server's fields only for PostgreSQL, the password hidden", () => {
    const pgFields = properties.filter((property) => property.name.startsWith('pg'));
    expect(pgFields.map((property) => property.displayName)).toEqual(['Host', 'Port', 'Database', 'User', 'Password', 'SSL', 'Schema']);
    for (const property of pgFields) expect(property.displayOptions).toEqual({ show: { storeKind: ['postgres'] } });
    expect(field('pgPassword').typeOptions).toEqual({ password: true });
    expect(field('dataFolder').displayOptions).toEqual({ show: { storeKind: ['sqlite'] } });
  });

  it("parses its own defaults: SQLite as is, PostgreSQL on localhost's postgres database", () => {
    const defaults = Object.fromEntries(properties.map((property) => [property.name, property.default]));
    expect(settingsFromCredential({ ...defaults, dataFolder: '/d' })).toMatchObject({ ok: true, value: { store: { kind: 'sqlite' } } });
    expect(settingsFromCredential({ ...defaults, storeKind: 'postgres' })).toMatchObject({
      ok: true,
      value: { store: { kind: 'postgres', host: 'localhost', port: 5432, database: 'postgres', user: 'postgres', ssl: 'off', schema: 'wahook_default' } },
    });
  });

  it('offers a per-minute cap beside the hourly and daily ones, and an optional warm-up; 0 is off for each', () => {
    expect(['capPerMinute', 'capPerHour', 'capPerDay', 'warmupDays'].map((name) => [name, field(name).type, field(name).default])).toEqual([
      ['capPerMinute', 'number', 0],
      ['capPerHour', 'number', 0],
      ['capPerDay', 'number', 0],
      ['warmupDays', 'number', 0],
    ]);
    expect(field('warmupStartPercent')).toMatchObject({ type: 'number', default: 10, displayOptions: { hide: { warmupDays: [0] } } });
    const defaults = Object.fromEntries(properties.map((property) => [property.name, property.default]));
    const off = settingsFromCredential({ ...defaults, dataFolder: '/d' });
    expect(off.ok && [off.value.capPerMinute, off.value.capPerHour, off.value.capPerDay, off.value.warmup]).toEqual([undefined, undefined, undefined, undefined]);
    const on = settingsFromCredential({ ...defaults, dataFolder: '/d', capPerMinute: 5, capPerDay: 200, warmupDays: 14, warmupStartPercent: 20 });
    expect(on.ok && [on.value.capPerMinute, on.value.capPerDay, on.value.warmup]).toEqual([5, 200, { days: 14, startPercent: 20 }]);
  });
});
