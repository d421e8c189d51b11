import type { ICredentialDataDecryptedObject, IHookFunctions, IWebhookFunctions } from 'n8n-workflow';
import { WhatsApp } from '../../nodes/n8n/WhatsApp/WhatsApp.node';
import { WhatsAppTrigger } from '../../nodes/n8n/WhatsAppTrigger/WhatsAppTrigger.node';
import { releaseIdleWorkspaces } from '../../nodes/n8n/common/workspace-access';
import { LINK_PAGE_SENTENCES, LinkHandle, Workspace, workspaces } from '../../shared';
import { eventually, executeContext, testCredential } from './helpers';

const trigger = new WhatsAppTrigger();
const whatsApp = new WhatsApp();
let store: ReturnType<typeof testCredential>;
const BASE = 'https://n8n.example.com/webhook/hook-1/whatsapp';

beforeEach(() => {
  store = testCredential();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await releaseIdleWorkspaces();
  await eventually(() => workspaces.openKeys().length === 0);
  store.cleanup();
});

/** A LinkHandle over a fake source (no socket): `qr` is what "WhatsApp" sends first. */
function fakeLink(qr: string) {
  let settle!: (phone: string) => void;
  const outcome = new Promise<{ phone: string; name: string | null }>((resolve) => {
    settle = (phone) => resolve({ phone, name: null });
  });
  const source = { outcome, cancel: async () => undefined, onQr: (listener: (qr: string) => void) => setImmediate(() => listener(qr)), onPairingCode: () => () => undefined };
  const handle = new LinkHandle(source as never, async (identity) => ({ id: `wa-${identity.phone}`, kind: 'baileys', phone: identity.phone, name: null, createdAt: 0, connectedAt: 0, active: true }));
  return { handle, settle };
}

function activationContext(credential: ICredentialDataDecryptedObject): IHookFunctions {
  return {
    getCredentials: async () => credential,
    getNodeParameter: (name: string, fallback?: unknown) => ({ mode: 'queue', path: 'whatsapp', dedicatedPort: 0 })[name] ?? fallback,
    getMode: () => 'trigger',
    getWorkflow: () => ({ id: 'wf-1', name: 'CRM', active: true }),
    getNode: () => ({ id: 'node-1', name: 'Trigger' }),
    getNodeWebhookUrl: (name: string) => (name === 'default' ? `${BASE}/:token` : `${BASE}/link/:linkToken`),
  } as unknown as IHookFunctions;
}

/** GET <path>/link/<token>[?view=] through the trigger's webhook(), as n8n calls it for the "setup" webhook. */
async function getLink(linkToken: string, view?: string) {
  const answer: { status?: number; headers: Record<string, string>; body?: string } = { headers: {} };
  const res = {
    status: (code: number) => ((answer.status = code), res),
    setHeader: (name: string, value: string) => ((answer.headers[name] = value), res),
    end: (body: string) => ((answer.body = body), res),
  };
  const context = {
    getWebhookName: () => 'setup',
    getCredentials: async () => store.credential,
    getParamsData: () => ({ linkToken }),
    getQueryData: () => (view === undefined ? {} : { view }),
    getResponseObject: () => res,
  } as unknown as IWebhookFunctions;
  expect(await trigger.webhook.call(context)).toEqual({ noWebhookResponse: true });
  return answer;
}

const linkAccount = async () => (await whatsApp.execute.call(executeContext(store.credential, { operation: 'link', linkMethod: 'qr', linkTimeoutSeconds: 60 })))[0]![0]!.json;
const tokenOf = (url: unknown) => String(url).slice(`${BASE}/link/`.length);

describe('Link Account and its one-time link page, through the trigger', () => {
  it('gives no link without an active trigger, and says how to get one', async () => {
    const link = fakeLink('2@abc');
    jest.spyOn(Workspace.prototype, 'startLink').mockReturnValue(link.handle);
    expect(await linkAccount()).toMatchObject({
      link_url: null,
      link_page: 'No link page: activate a WhatsApp Inbound Webhook Trigger of this workspace, then run Link Account again for a link that follows the rotating QR.',
    });
    link.settle('15550000001');
  });

  it('gives a link through the active trigger that shows the QR once, follows rotation and ends with the linked phone', async () => {
    await trigger.webhookMethods.default.create.call(activationContext(store.credential));
    const link = fakeLink('2@first');
    jest.spyOn(Workspace.prototype, 'startLink').mockReturnValue(link.handle);
    const item = await linkAccount();
    expect(item).toMatchObject({ status: 'waiting_for_phone', qr: '2@first', link_url: expect.stringMatching(new RegExp(`^${BASE}/link/[A-Za-z0-9_-]{43}$`)) });
    const token = tokenOf(item.link_url);

    const page = await getLink(token);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const view = /encodeURIComponent\("([A-Za-z0-9_-]{43})"\)/.exec(page.body!)![1]!;
    const poll = async () => JSON.parse((await getLink(token, view)).body!) as { status: string; qr?: string; phone?: string };
    expect(await poll()).toMatchObject({ status: 'waiting', qr: expect.stringMatching(/^data:image\/png;base64,/) });
    link.settle('15550000001');
    let state: Awaited<ReturnType<typeof poll>> = { status: 'waiting' };
    await eventually(async () => (state = await poll()).status !== 'waiting');
    expect(state).toEqual({ status: 'linked', phone: '+15550000001', name: null });
    expect(await getLink(token, view)).toEqual({ status: 404, headers: expect.any(Object), body: JSON.stringify({ status: 404, message: LINK_PAGE_SENTENCES.used }) });
  });

  it('answers every bad link with 404 and its sentence: malformed, unknown, used', async () => {
    await trigger.webhookMethods.default.create.call(activationContext(store.credential));
    const link = fakeLink('2@first');
    jest.spyOn(Workspace.prototype, 'startLink').mockReturnValue(link.handle);
    const token = tokenOf((await linkAccount()).link_url);
    const html = (sentence: string) => expect.stringContaining(`<p id="message">${sentence.replace(/'/g, '&#39;')}</p>`);
    expect(await getLink('not-a-token')).toMatchObject({ status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: html(LINK_PAGE_SENTENCES.malformed) });
    expect(await getLink('B'.repeat(43))).toMatchObject({ status: 404, body: html(LINK_PAGE_SENTENCES.unknown) });
    expect((await getLink(token)).status).toBe(200);
    expect(await getLink(token)).toMatchObject({ status: 404, body: html(LINK_PAGE_SENTENCES.used) });
    expect(await getLink(token, 'guessed')).toMatchObject({
      status: 404,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ status: 404, message: LINK_PAGE_SENTENCES.used }),
    });
    link.settle('15550000001');
  });
});
