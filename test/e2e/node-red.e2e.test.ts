import { createServer, type Server } from 'node:http';
import { SEED_EXAMPLE_1 as EXAMPLE_1, SEED_EXAMPLE_2 as EXAMPLE_2, SEED_EXAMPLE_2_CORRECTED } from '../support/seed-examples';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../shared/store/sqlite';
import { Workspace } from '../../shared/workspace/workspace';
import { NodeRed, waitFor } from './support/node-red';
import { nodeIdOf, tab, tokenOf, webhook, workspace } from './support/flows';
import { readScrape } from '../support/prometheus';

// A real Node-RED 5 process with a temporary user dir: flows deployed through the admin API
// (POST /flows, full), everything asserted over HTTP; the dry-run recorder is read from the store file.

const PACKAGE = '@wahook/n8n-nodes-whatsapp';
const ACCOUNT_ID = 'dry-run-15105566777';
const GROUP_JID = '120363041234577234@g.us';


// A 1×1 PNG, served by a local file server (the contract workspace allows private file URLs).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPgPAAEDAQAIicLsAAAAAElFTkSuQmCC', 'base64');
const HTML = '<!DOCTYPE html><html><head><title>Download</title></head><body><a href="/file">Download logo.png</a></body></html>';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe('Node-RED end to end: a real process, the admin API, HTTP', () => {
  let userDir: string;
  let red: NodeRed;
  let files: Server;
  let filesUrl: string;
  let contractToken = tokenOf('contract');

  const storeFile = (store: string) => join(userDir, 'whatsapp', `${store}.sqlite`);

  /** What the dry-run account recorded as sent, read from the store file Node-RED writes. */
  const recorded = (store: string) => {
    const db = new DatabaseSync(storeFile(store), { readOnly: true });
    try {
      return db.prepare('SELECT id, account_id, jid, kind, text, file_name, mimetype, bytes, first_at FROM dry_run_sent ORDER BY first_at, rowid').all() as {
        id: string;
        account_id: string;
        jid: string;
        kind: string;
        text: string | null;
        file_name: string | null;
        mimetype: string | null;
        bytes: number | null;
        first_at: number;
      }[];
    } finally {
      db.close();
    }
  };

  const post = async (token: string, body: unknown, contentType: string | null = 'application/json', method = 'POST'): Promise<Answer> => {
    const response = await fetch(`${red.url}/whatsapp/${token}`, {
      method,
      headers: contentType === null ? {} : { 'content-type': contentType },
      ...(method === 'GET' ? {} : { body: typeof body === 'string' ? body : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };
  const send = (token: string, fields: Record<string, unknown>) => post(token, { action: 'send', ...fields });
  const idOf = (answer: Answer) => String((answer.body.data as { message_id: string }).message_id).slice('wa_backend:'.length);

  const state = async (id: string) => {
    const response = await red.admin(`whatsapp-workspace/${nodeIdOf(id)}/state`);
    expect(response.status).toBe(200);
    return (await response.json()) as {
      webhook: { path: string; enabled: boolean; cloudApiPath: string | null };
      accounts: { id: string; kind: string; phone: string; state: string }[];
      quota: { available: number; used: number; pendingRefunds: number };
      attempts: { status: number; messageId: string | null; result: string }[];
    };
  };
  const log = async (id: string) => {
    const response = await red.admin(`whatsapp-workspace/${nodeIdOf(id)}/log`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="whatsapp-webhook-log-${nodeIdOf(id)}.json"`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return (await response.json()) as {
      exported_at: string;
      attempts: { status: number; request: string; response: string; message_id: string | null; notes: string | null; outcome: string | null; remote_address: string | null }[];
    };
  };
  const outcomeOf = async (workspaceId: string, messageId: string) =>
    (await log(workspaceId)).attempts.find((attempt) => attempt.message_id === `wa_backend:${messageId}`)?.outcome;
  const waitForOutcome = async (workspaceId: string, messageId: string, expected: string) => {
    await waitFor(`outcome "${expected}" of ${messageId}`, async () => (await outcomeOf(workspaceId, messageId)) === expected, 10_000);
  };
  /** A webhook node serves a token once its workspace has opened; GET then answers 405 (logged once). */
  const waitServed = (token: string) => waitFor(`/whatsapp/${token} to be served`, async () => (await post(token, undefined, null, 'GET')).status !== 404);

  beforeAll(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-e2e-nr-'));
    await seedContractStore(join(userDir, 'whatsapp', 'contract.sqlite'));
    files = createServer((req, res) => {
      if (req.url === '/logo.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      else if (req.url === '/logo-page') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HTML);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}`;

    red = await NodeRed.start(userDir);
    await red.deploy([
      tab(),
      workspace('contract', { allowPrivateFileUrls: true }),
      webhook('contract'),
      workspace('quota', { quotaAllowance: '3' }),
      webhook('quota'),
      workspace('paced', { gapMinSeconds: '0.2', gapMaxSeconds: '0.3' }),
      webhook('paced'),
      workspace('empty', { dryRunPhones: '' }),
      webhook('empty'),
    ]);
    try {
      for (const id of ['contract', 'quota', 'paced', 'empty']) await waitServed(tokenOf(id));
    } catch (error) {
      throw new Error(`${String(error)}\nNode-RED said:\n${red.log()}`);
    }
  }, 60_000);

  afterAll(async () => {
    const code = await red?.stop();
    await new Promise((resolve) => files?.close(resolve));
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    // Node-RED stopped cleanly on SIGINT (only checked when it started).
    if (red) expect(code).toBe(0);
  }, 20_000);

  it('loads our four node types with no load error (GET /nodes)', async () => {
    const ours = (await red.nodeSets()).filter((set) => set.module === PACKAGE);
    expect(ours.map((set) => ({ types: set.types, enabled: set.enabled, err: set.err }))).toEqual([
      { types: ['whatsapp-workspace'], enabled: true, err: undefined },
      { types: ['whatsapp-webhook'], enabled: true, err: undefined },
      { types: ['whatsapp-send'], enabled: true, err: undefined },
      { types: ['whatsapp-in'], enabled: true, err: undefined },
    ]);
    expect((await red.nodeSets()).filter((set) => set.err !== undefined)).toEqual([]);
  });

  it("200: the seed's Example 1 as printed, sent from the named account", async () => {
    const answer = await post(contractToken, Buffer.from(EXAMPLE_1, 'utf8'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'success', data: { message_id: expect.stringMatching(/^wa_backend:3EB0[0-9A-F]{18}$/) } });
    const id = idOf(answer);
    await waitForOutcome('contract', id, 'delivered');
    expect(recorded('contract').filter((row) => row.id === id)).toEqual([
      expect.objectContaining({ id, account_id: ACCOUNT_ID, jid: '14151231234@s.whatsapp.net', kind: 'text', text: 'lorem ipsum' }),
    ]);
  });

  it("400: the seed's Example 2 as printed says where the JSON breaks; with the comma it goes to chat 77234", async () => {
    const printed = await post(contractToken, Buffer.from(EXAMPLE_2, 'utf8'));
    expect(printed.status).toBe(400);
    expect(printed.body).toEqual({ status: 400, data: {}, message: "The body is not valid JSON: expected ',' or '}' after property value at line 5, column 1." });

    const fixed = await post(contractToken, Buffer.from(SEED_EXAMPLE_2_CORRECTED, 'utf8'));
    expect(fixed.status).toBe(200);
    const id = idOf(fixed);
    // The text goes to the group; timelines.ai is not reachable from here, so the file part fails (and is refunded).
    await waitForOutcome('contract', id, 'failed: the file URL could not be reached (ENOTFOUND)');
    expect(recorded('contract').filter((row) => row.id === id)).toEqual([
      expect.objectContaining({ id, account_id: ACCOUNT_ID, jid: GROUP_JID, kind: 'text', text: 'lorem ipsum' }),
    ]);
    const attempt = (await log('contract')).attempts.find((entry) => entry.message_id === `wa_backend:${id}`);
    expect(attempt).toMatchObject({ status: 200, notes: 'recipient by chat_id', remote_address: expect.stringMatching(/127\.0\.0\.1$/) });
  });

  it('answers every other status of the spec with its exact body', async () => {
    const missing = await post('no-such-token-0123456789', { action: 'send', phone: '+14151231234', text: 'hi' });
    expect([missing.status, missing.body]).toEqual([404, { status: 404, data: {}, message: 'Webhook not found' }]);

    const get = await post(contractToken, undefined, null, 'GET');
    expect([get.status, get.headers.get('allow'), get.body]).toEqual([
      405,
      'POST',
      { status: 405, data: {}, message: 'Method GET is not allowed: send the request with POST.' },
    ]);

    const plain = await post(contractToken, 'hello', 'text/plain');
    expect([plain.status, plain.body]).toEqual([415, { status: 415, data: {}, message: 'The Content-Type header is "text/plain"; send the body as application/json.' }]);

    const big = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'x'.repeat(256 * 1024) });
    const tooLarge = await post(contractToken, big);
    // The route stops reading at limit + 1 bytes (it never buffers what a client chooses to send).
    expect([tooLarge.status, tooLarge.body]).toEqual([
      413,
      { status: 413, data: {}, message: 'The body is larger than the limit of 262144 bytes (256 KiB); send a smaller request.' },
    ]);

    const badField = await send(contractToken, { phone: '12', text: 'hi' });
    expect([badField.status, badField.body]).toEqual([
      400,
      { status: 400, data: {}, message: 'Field "phone" must be a phone number in international format with its country code, such as "+14151231234".' },
    ]);

    const unknownChat = await send(contractToken, { chat_id: 77235, text: 'hi' });
    expect([unknownChat.status, unknownChat.body]).toEqual([
      422,
      { status: 422, data: {}, message: 'Field "chat_id" is 77235, but no chat with that id exists in this workspace; list the chats to find its id.' },
    ]);
    const unknownAccount = await send(contractToken, { phone: '+14151231234', text: 'hi', whatsapp_account_phone: '+447700900123' });
    expect(unknownAccount.status).toBe(422);
    const noAccount = await send(tokenOf('empty'), { phone: '+14151231234', text: 'hi' });
    expect([noAccount.status, noAccount.body]).toEqual([
      422,
      { status: 422, data: {}, message: 'This workspace has no WhatsApp account yet: link a phone (or add a dry-run account) before sending.' },
    ]);
  });

  it('"Generate new URL" (rotate): the old URL is 404 at once, the new one works', async () => {
    const before = await state('contract');
    // No Cloud API number in this workspace: no callback URL for Meta.
    expect(before.webhook).toEqual({ path: `/whatsapp/${contractToken}`, enabled: true, cloudApiPath: null });
    const response = await red.admin('whatsapp-workspace/ws-contract/rotate', { method: 'POST' });
    expect(response.status).toBe(200);
    const rotated = ((await response.json()) as { webhook: { path: string } }).webhook.path;
    expect(rotated).toMatch(/^\/whatsapp\/[A-Za-z0-9_-]{16,}$/);
    expect(rotated).not.toBe(before.webhook.path);
    expect((await send(contractToken, { phone: '+14151231234', text: 'old URL' })).body).toEqual({ status: 404, data: {}, message: 'Webhook not found' });
    contractToken = rotated.slice('/whatsapp/'.length);
    expect((await send(contractToken, { phone: '+14151231234', text: 'new URL' })).status).toBe(200);
    expect((await state('contract')).webhook).toEqual({ path: rotated, enabled: true, cloudApiPath: null });
  });

  it('"Webhook enabled" off answers 403 Webhook disabled, on again 200', async () => {
    const off = await red.admin('whatsapp-workspace/ws-contract/enabled', { method: 'POST', body: { enabled: false } });
    expect(((await off.json()) as { webhook: { enabled: boolean } }).webhook.enabled).toBe(false);
    const disabled = await send(contractToken, { phone: '+14151231234', text: 'while disabled' });
    expect([disabled.status, disabled.body]).toEqual([403, { status: 403, data: {}, message: 'Webhook disabled' }]);
    const on = await red.admin('whatsapp-workspace/ws-contract/enabled', { method: 'POST', body: { enabled: true } });
    expect(((await on.json()) as { webhook: { enabled: boolean } }).webhook.enabled).toBe(true);
    expect((await send(contractToken, { phone: '+14151231234', text: 'enabled again' })).status).toBe(200);
  });

  it('attachments: a direct PNG link is sent as an image; a web page fails with its reason', async () => {
    const image = await send(contractToken, { phone: '+14151231234', text: '', file_url: `${filesUrl}/logo.png`, file_name: 'logo.png' });
    expect(image.status).toBe(200);
    const imageId = idOf(image);
    await waitForOutcome('contract', imageId, 'delivered');
    expect(recorded('contract').filter((row) => row.id === imageId)).toEqual([
      expect.objectContaining({ id: imageId, jid: '14151231234@s.whatsapp.net', kind: 'image', text: null, file_name: 'logo.png', mimetype: 'image/png', bytes: PNG.length }),
    ]);

    const page = await send(contractToken, { phone: '+14151231234', text: '', file_url: `${filesUrl}/logo-page`, file_name: 'logo.png' });
    expect(page.status).toBe(200);
    const pageId = idOf(page);
    await waitForOutcome('contract', pageId, 'failed: the URL returned a web page, not a file: use a direct download link');
    expect(recorded('contract').filter((row) => row.id === pageId)).toEqual([]);
  });

  it('quota: 429 when exhausted, nothing queued; a number not on WhatsApp fails and its unit comes back', async () => {
    const token = tokenOf('quota');
    expect((await state('quota')).quota).toMatchObject({ available: 3, used: 0 });
    const lost = await send(token, { phone: '+14150000000', text: 'to nobody' });
    expect(lost.status).toBe(200);
    await waitForOutcome('quota', idOf(lost), 'failed: +14150000000 is not on WhatsApp');
    await waitFor('the refund', async () => (await state('quota')).quota.available === 3);
    expect((await state('quota')).quota).toMatchObject({ available: 3, used: 0, pendingRefunds: 0 });

    for (let i = 0; i < 3; i++) expect((await send(token, { phone: '+14151231234', text: `m${i}` })).status).toBe(200);
    expect((await state('quota')).quota).toMatchObject({ available: 0, used: 3 });
    const refused = await send(token, { phone: '+14151231234', text: 'one too many' });
    expect([refused.status, refused.body]).toEqual([
      429,
      { status: 429, data: {}, message: 'Not enough messaging quota: 0 units are available and this request needs 1; nothing was queued.' },
    ]);
    await waitFor('the three sends', () => recorded('quota').length === 3);
    expect(recorded('quota').map((row) => row.text)).toEqual(['m0', 'm1', 'm2']);
    expect((await state('quota')).quota).toMatchObject({ available: 0, used: 3 });
  });

  it('pacing: the recorder sees every gap between 0.2 and 0.3 s (plus timer slack)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const answer = await send(tokenOf('paced'), { phone: '+14151231234', text: `paced ${i}` });
      expect(answer.status).toBe(200);
      ids.push(idOf(answer));
    }
    await waitFor('10 paced sends', () => recorded('paced').length === 10, 10_000);
    const rows = recorded('paced');
    expect(rows.map((row) => row.id)).toEqual(ids);
    const gaps = rows.slice(1).map((row, i) => row.first_at - rows[i]!.first_at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(200);
      expect(gap).toBeLessThanOrEqual(340);
    }
  });

  it('"Download log": every attempt, newest first, with the request as received', async () => {
    const { attempts, exported_at } = await log('contract');
    expect(Date.parse(exported_at)).toBeGreaterThan(Date.now() - 60_000);
    // Oldest first here, for reading: readiness GET, the examples, the refusals, rotate/disable, files.
    expect(attempts.map((attempt) => attempt.status).reverse()).toEqual([405, 200, 400, 200, 405, 415, 413, 400, 422, 422, 200, 403, 200, 200, 200]);
    const example2 = attempts.find((attempt) => attempt.status === 400 && attempt.request.startsWith('{\n"action"'));
    expect(example2).toMatchObject({
      request: EXAMPLE_2,
      response: JSON.stringify({ status: 400, data: {}, message: "The body is not valid JSON: expected ',' or '}' after property value at line 5, column 1." }),
      message_id: null,
    });
    expect(attempts.find((attempt) => attempt.status === 413)!.request).toHaveLength(4096);
    const summary = (await state('contract')).attempts;
    expect(summary).toHaveLength(10);
    expect(summary[0]).toMatchObject({ status: 200, result: 'failed: the URL returned a web page, not a file: use a direct download link' });
  });

  // An unknown token's 404 is no workspace's call (the route table answers it), so it is counted nowhere.
  it('/metrics and /healthz (no adminAuth: open, as the rest of the admin API): the calls answered so far, by status', async () => {
    const metrics = await red.admin(`whatsapp-workspace/${nodeIdOf('contract')}/metrics`);
    expect(metrics.status).toBe(200);
    const scrape = readScrape(await metrics.text());
    for (const status of ['200', '400', '403', '405', '413', '415']) expect([status, (scrape.value('wahook_webhook_calls_total', { status }) ?? 0) > 0]).toEqual([status, true]);
    expect(scrape.value('wahook_account_state', { account: ACCOUNT_ID, state: 'open' })).toBe(1);
    const health = await red.admin(`whatsapp-workspace/${nodeIdOf('contract')}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok', store: 'reachable', accounts: [expect.objectContaining({ id: ACCOUNT_ID, state: 'open' })] }]);
  });

  it('redeploying twice leaves no stale route or token', async () => {
    const call = (token: string) => send(token, { phone: '+14151231234', text: 'after redeploy' });
    await red.deploy([tab(), workspace('second'), webhook('second')]);
    await waitServed(tokenOf('second'));
    for (const token of [contractToken, tokenOf('quota'), tokenOf('paced'), tokenOf('empty')]) expect((await call(token)).status).toBe(404);
    expect((await call(tokenOf('second'))).status).toBe(200);
    expect((await red.admin('whatsapp-workspace/ws-contract/state')).status).toBe(404);

    await red.deploy([tab(), workspace('third'), webhook('third')]);
    await waitServed(tokenOf('third'));
    expect((await call(tokenOf('second'))).body).toEqual({ status: 404, data: {}, message: 'Webhook not found' });
    expect((await call(tokenOf('third'))).status).toBe(200);
    expect((await red.nodeSets()).filter((set) => set.err !== undefined)).toEqual([]);
    expect(red.log()).not.toMatch(/\[error\]/);
  });
});

/**
 * The contract workspace's store, prepared before Node-RED opens it: the dry-run account the config node
 * would add, and a group chat whose id is 77234 (the seed's Example 2). Chat ids come from SQLite's
 * AUTOINCREMENT counter; setting that counter (sqlite_sequence, which SQLite lets you write) stands for a
 * workspace that has already numbered 77,233 chats. The chat row itself is written by the core (addChats).
 */
async function seedContractStore(path: string): Promise<void> {
  await new SqliteStore({ path }).close();
  const db = new DatabaseSync(path);
  db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('chats', 77233)").run();
  db.close();
  const seeded = await Workspace.open({ store: new SqliteStore({ path }), initialToken: tokenOf('contract') });
  const account = await seeded.addDryRunAccount('15105566777', 'dry run');
  const [chat] = await seeded.addChats(account.id, [{ jid: GROUP_JID, name: 'Lorem ipsum group' }]);
  await seeded.close();
  if (chat?.chatId !== '77234') throw new Error(`the seeded chat got id ${chat?.chatId}, not 77234`);
}
