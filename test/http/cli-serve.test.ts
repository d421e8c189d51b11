import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { storeChoiceFromArgument } from '../../shared/cli/store-argument';
import { FakeGraphApi } from '../support/fake-graph-api';
import { TEST_PG_URL, throwawaySchema, type ThrowawaySchema } from '../support/postgres';
import { tempDir } from '../support/temp';

const CLI = join(__dirname, '..', '..', 'dist', 'shared', 'cli', 'main.js');

describe('wahook --store', () => {
  it('is a SQLite path unless it is a postgres:// URL', () => {
    expect(storeChoiceFromArgument('.data/workspace.sqlite')).toEqual({ ok: true, value: { kind: 'sqlite', path: '.data/workspace.sqlite' } });
    expect(storeChoiceFromArgument('postgresql://wa%40hook:p%40ss@db.internal:6543/crm?schema=crm_whatsapp&sslmode=verify-full')).toEqual({
      ok: true,
      value: { kind: 'postgres', host: 'db.internal', port: 6543, database: 'crm', user: 'wa@hook', password: 'p@ss', ssl: 'verify', schema: 'crm_whatsapp' },
    });
    expect(storeChoiceFromArgument('postgres://postgres@[::1]/test?sslmode=require')).toEqual({
      ok: true,
      value: { kind: 'postgres', host: '::1', port: 5432, database: 'test', user: 'postgres', ssl: 'require', schema: 'wahook_default' },
    });
  });

  it.each([
    ['postgres://u:secret@db:99999/crm', '--store is not a PostgreSQL URL such as postgres://user:password@host:5432/database?schema=wahook_default.'],
    ['postgres://', 'In --store, the host is required for a PostgreSQL store: the PostgreSQL server\'s host name or address.'],
    ['postgres://u:secret@db/crm?sslmode=sometimes', '--store has sslmode="sometimes"; use disable, require, verify-ca or verify-full.'],
    ['postgres://u:secret@db/', 'In --store, the database (the path) is required for a PostgreSQL store: the database that holds the workspace\'s schema.'],
    ['postgres://:secret@db/crm', 'In --store, the user is required for a PostgreSQL store: the user the store connects as.'],
    ['postgres://u:secret@db/crm?schema=Bad-Name', 'In --store, the schema must be lower-case letters, digits and underscores, at most 48, not starting with a digit; got "Bad-Name".'],
    ['postgres://u:secret@db/crm?ssl=maybe', 'In --store, ssl must be "off", "require" or "verify"; got "maybe".'],
  ])('refuses %s with one sentence that never repeats the password', (argument, message) => {
    expect(storeChoiceFromArgument(argument)).toEqual({ ok: false, rejection: { status: 400, field: 'store', message } });
    expect(message).not.toContain('secret');
  });
});

describe('wahook serve --retention-days', () => {
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, firstLine: stderr.split('\n')[0] };
  };

  it.each(['0.5', '-1', 'thirty', '3651'])('refuses %s with one sentence naming the flag, before opening any store', async (value) => {
    expect(await run(['--store', '/nonexistent/dir/never-made.sqlite', `--retention-days=${value}`])).toEqual({
      code: 2,
      firstLine: `--retention-days must be 0 (keep everything) or a number of days from 1 to 3650; got "${value}".`,
    });
  });

  it('serves with it: 0 keeps everything', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [CLI, 'serve', '--store', join(dir.path, 'w.sqlite'), '--port', '0', '--retention-days', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      for await (const line of createInterface({ input: child.stdout! })) if (line.startsWith('Webhook URL: ')) break;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      dir.cleanup();
    }
  });
});

describe('wahook serve --store postgres://…', () => {
  let schema: ThrowawaySchema;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    schema = throwawaySchema();
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await schema.drop();
  });

  it('refuses a scrape token too short to be safe, naming the option', async () => {
    const refused = spawn(process.execPath, [CLI, 'serve', '--store', `${TEST_PG_URL}?schema=${schema.name}`, '--metrics-token', 'short'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    refused.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(refused, 'exit')) as [number | null];
    expect([code, stderr.split('\n')[0]]).toEqual([2, '--metrics-token must be 16 to 256 visible characters (letters, digits or punctuation, no spaces).']);
  });

  it('serves the webhook on that schema: a call answers 200 and its message is in the store', async () => {
    child = spawn(process.execPath, [CLI, 'serve', '--store', `${TEST_PG_URL}?schema=${schema.name}`, '--port', '0', '--dry-run', '+15105566777'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, WAHOOK_METRICS_TOKEN: 'cli-scrape-token-0123456789' },
    });
    const lines = createInterface({ input: child.stdout! });
    let url: string | undefined;
    for await (const line of lines) {
      const found = /^Webhook URL: (\S+)$/.exec(line);
      if (found) {
        url = found[1];
        break;
      }
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/whatsapp\/\S+$/);
    const response = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'from the CLI' }) });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { message_id: string } };
    const rows = await schema.admin<{ id: string; text: string }>(`SELECT id, text FROM "${schema.name}".messages`);
    expect(rows).toEqual([{ id: data.message_id.replace(/^wa_backend:/, ''), text: 'from the CLI' }]);
    // The scrape token came from the environment: /metrics needs it.
    const metrics = new URL('/metrics', url).href;
    expect((await fetch(metrics)).status).toBe(401);
    const scraped = await fetch(metrics, { headers: { authorization: 'Bearer cli-scrape-token-0123456789' } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('wahook_webhook_calls_total{status="200"} 1');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});

describe('wahook serve --cloud-api-phone-number-id', () => {
  const ENV = { WAHOOK_CLOUD_API_ACCESS_TOKEN: 'EAAtest-token', WAHOOK_CLOUD_API_APP_SECRET: 'app-secret-for-tests', WAHOOK_CLOUD_API_VERIFY_TOKEN: 'cli-verify' };

  it('refuses a missing secret naming its environment variable, before opening any store', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--store', '/nonexistent/dir/never.sqlite', '--cloud-api-phone-number-id', '106540352242922'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...ENV, WAHOOK_CLOUD_API_APP_SECRET: '' },
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect([code, stderr.split('\n')[0]]).toEqual([
      2,
      'WAHOOK_CLOUD_API_APP_SECRET is needed for the WhatsApp Cloud API number: set it to the app secret (App settings > Basic), which checks the webhook signatures, or leave out --cloud-api-phone-number-id.',
    ]);
  });

  it('serves Meta\'s webhook beside the contract\'s: verified, a send reaches the Graph API, its signed receipts make it read', async () => {
    const graph = await new FakeGraphApi().start();
    const dir = tempDir();
    const child = spawn(process.execPath, [CLI, 'serve', '--store', join(dir.path, 'cloud.sqlite'), '--port', '0', '--cloud-api-phone-number-id', graph.phoneNumberId], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...ENV, WAHOOK_GRAPH_API_URL: graph.baseUrl },
    });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const nextMatching = async (pattern: RegExp): Promise<RegExpExecArray> => {
        for (let line = await lines.next(); !line.done; line = await lines.next()) {
          const found = pattern.exec(line.value);
          if (found) return found;
        }
        throw new Error(`no line matched ${pattern}`);
      };
      const webhookUrl = (await nextMatching(/^Webhook URL: (\S+)$/))[1]!;
      const cloudUrl = (await nextMatching(/^Cloud API webhook \(.*\): (\S+)$/))[1]!;
      expect(cloudUrl).toBe(new URL('/whatsapp/cloud-api', webhookUrl).href);
      const verified = await fetch(`${cloudUrl}?hub.mode=subscribe&hub.verify_token=cli-verify&hub.challenge=8675309`);
      expect([verified.status, await verified.text()]).toEqual([200, '8675309']);
      graph.receipts = { url: cloudUrl, delayMs: 20 };
      const response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'from the cloud CLI' }),
      });
      expect(response.status).toBe(200);
      const id = ((await response.json()) as { data: { message_id: string } }).data.message_id.replace(/^wa_backend:/, '');
      await nextMatching(new RegExp(`^message ${id}: read$`));
      await graph.receiptsPosted();
      expect(graph.receiptAnswers).toEqual([200, 200]);
      expect(graph.sends).toEqual([{ messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'text', text: { body: 'from the cloud CLI' } }]);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await graph.close();
      dir.cleanup();
    }
  }, 30_000);
});
