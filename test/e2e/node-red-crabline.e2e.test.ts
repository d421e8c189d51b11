import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../shared/store/sqlite';
import { Crabline } from '../baileys/support/crabline';
import { primeLinkedAuth } from '../baileys/support/harness';
import { NodeRed, waitFor } from './support/node-red';
import { nodeIdOf, tab, tokenOf, webhook, workspace } from './support/flows';

// The second run: a real Node-RED whose workspace has a real Baileys account, connected to crabline (a
// local fake WhatsApp Web server on 127.0.0.1) through the WAHOOK_WA_WEBSOCKET_URL hook in
// shared/hosting/workspace-options.ts. A POST to the webhook must arrive at the server, decrypted, with
// the same id.

const SELF = '15550000001:0@s.whatsapp.net';
const ACCOUNT = { id: 'wa-15550000001', kind: 'baileys' as const, phone: '15550000001', name: null, createdAt: 1, connectedAt: null, active: true };
const PEER = '15551234567@s.whatsapp.net';

describe('Node-RED end to end with a real Baileys account against crabline', () => {
  let userDir: string;
  let crabline: Crabline;
  let red: NodeRed;

  beforeAll(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-e2e-crab-'));
    crabline = await Crabline.start(join(userDir, 'crabline.jsonl'), SELF);
    // A linked device's creds in the store Node-RED will open, as a completed link leaves them.
    const store = new SqliteStore({ path: join(userDir, 'whatsapp', 'linked.sqlite') });
    await store.accounts.put(ACCOUNT);
    await primeLinkedAuth(store, ACCOUNT.id, { id: SELF, name: 'Crab Phone' });
    await store.close();
    red = await NodeRed.start(userDir, { env: { WAHOOK_WA_WEBSOCKET_URL: crabline.webSocketUrl } });
    await red.deploy([tab(), workspace('linked', { dryRunPhones: '' }), webhook('linked')]);
  }, 60_000);

  afterAll(async () => {
    const code = await red?.stop();
    await crabline?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    // Node-RED stopped cleanly on SIGINT (only checked when it started).
    if (red) expect(code).toBe(0);
  }, 20_000);

  it('a webhook POST ends decrypted at the server with the message id the response gave', async () => {
    const accountState = async () => {
      const response = await red.admin(`whatsapp-workspace/${nodeIdOf('linked')}/state`);
      if (response.status !== 200) return undefined;
      return ((await response.json()) as { accounts: { id: string; kind: string; phone: string; state: string }[] }).accounts;
    };
    await waitFor('the linked account to connect to crabline', async () => (await accountState())?.[0]?.state === 'open', 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nNode-RED said:\n${red.log()}`);
    });
    expect(await accountState()).toEqual([expect.objectContaining({ id: ACCOUNT.id, kind: 'baileys', phone: '15550000001', state: 'open' })]);

    const response = await fetch(`${red.url}/whatsapp/${tokenOf('linked')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'send', jid: PEER, text: 'hello from Node-RED' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; data: { message_id: string } };
    expect(body).toEqual({ status: 'success', data: { message_id: expect.stringMatching(/^wa_backend:3EB0[0-9A-F]{18}$/) } });
    const id = body.data.message_id.slice('wa_backend:'.length);

    await waitFor('crabline to decrypt the message', () => crabline.accepted().length > 0, 15_000);
    expect(crabline.accepted()).toEqual([
      expect.objectContaining({ key: { fromMe: true, id, remoteJid: PEER }, message: { conversation: 'hello from Node-RED' } }),
    ]);
    // The attempt log (Download log) records the same id, and that Baileys handed the message off.
    await waitFor('the attempt log to show the send', async () => {
      const response = await red.admin(`whatsapp-workspace/${nodeIdOf('linked')}/log`);
      const { attempts } = (await response.json()) as { attempts: { message_id: string; outcome: string | null }[] };
      return attempts.length === 1 && attempts[0]!.message_id === body.data.message_id && attempts[0]!.outcome === 'sent';
    });
  });
});
