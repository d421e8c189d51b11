import type { ICredentialDataDecryptedObject, IDataObject, IHookFunctions } from 'n8n-workflow';
import { WhatsApp } from '../../nodes/n8n/WhatsApp/WhatsApp.node';
import { WhatsAppTrigger } from '../../nodes/n8n/WhatsAppTrigger/WhatsAppTrigger.node';
import { releaseIdleWorkspaces, settingsFromCredential } from '../../nodes/n8n/common/workspace-access';
import { workspaces } from '../../shared';
import { executeContext, testCredential, TOKEN } from './helpers';

const trigger = new WhatsAppTrigger();
const whatsApp = new WhatsApp();
let store: ReturnType<typeof testCredential>;

beforeEach(() => {
  store = testCredential();
});

afterEach(async () => {
  await releaseIdleWorkspaces();
  expect(workspaces.openKeys()).toEqual([]);
  store.cleanup();
});

const BASE = 'https://n8n.example.com/webhook';

/**
 * A mocked IHookFunctions as n8n gives it on activation: getNodeWebhookUrl builds the URL from the base
 * (the editor's test registration uses /webhook-test and mode "manual").
 */
function hookContext(credential: ICredentialDataDecryptedObject, parameters: IDataObject = {}, options: { mode?: string; nodeId?: string } = {}): IHookFunctions {
  const params: IDataObject = { mode: 'queue', path: 'whatsapp', dedicatedPort: 0, dedicatedHost: '', ...parameters };
  const nodeId = options.nodeId ?? 'node-1';
  const base = options.mode === 'manual' ? 'https://n8n.example.com/webhook-test' : BASE;
  const context = {
    getCredentials: async () => credential,
    getNodeParameter: (name: string, fallback?: unknown) => (name in params ? params[name] : fallback),
    getMode: () => options.mode ?? 'trigger',
    getWorkflow: () => ({ id: 'wf-1', name: 'CRM to WhatsApp', active: true }),
    getNode: () => ({ id: nodeId, name: 'WhatsApp Inbound Webhook Trigger', type: 'CUSTOM.whatsAppTrigger', typeVersion: 1, parameters: {}, webhookId: `hook-${nodeId}` }),
    getNodeWebhookUrl: (name: string) =>
      name === 'default' ? `${base}/hook-${nodeId}/${String(params.path)}/:token` : name === 'setup' ? `${base}/hook-${nodeId}/${String(params.path)}/link/:linkToken` : undefined,
  };
  return context as unknown as IHookFunctions;
}

const activate = (context: IHookFunctions) => trigger.webhookMethods.default.create.call(context);
const deactivate = (context: IHookFunctions) => trigger.webhookMethods.default.delete.call(context);
const getWebhookUrl = async () => (await whatsApp.execute.call(executeContext(store.credential, { operation: 'getWebhookUrl' })))[0]!.map((item) => item.json);

describe('Get Webhook URL', () => {
  it('gives the production URL of each active trigger with the current token, and a rotation at once', async () => {
    await activate(hookContext(store.credential));
    await activate(hookContext(store.credential, { path: 'crm', dedicatedPort: 5700 }, { nodeId: 'node-2' }));
    expect(await getWebhookUrl()).toEqual([
      {
        url: `${BASE}/hook-node-1/whatsapp/${TOKEN}`,
        dedicated_port_url: null,
        trigger: 'CRM to WhatsApp / WhatsApp Inbound Webhook Trigger',
        workflow_id: 'wf-1',
        node_id: 'node-1',
        enabled: true,
        active_since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
      expect.objectContaining({ url: `${BASE}/hook-node-2/crm/${TOKEN}`, dedicated_port_url: `http://n8n.example.com:5700/whatsapp/${TOKEN}`, node_id: 'node-2' }),
    ]);
    const [rotated] = (await whatsApp.execute.call(executeContext(store.credential, { operation: 'rotateWebhook' })))[0]!;
    const token = rotated!.json.token as string;
    expect((await getWebhookUrl()).map((item) => item.url)).toEqual([`${BASE}/hook-node-1/whatsapp/${token}`, `${BASE}/hook-node-2/crm/${token}`]);
  });

  it('is refused with what to do while no trigger is active; deactivation removes the URL', async () => {
    const none = 'No active WhatsApp Inbound Webhook Trigger uses this workspace yet: add one to a workflow, activate the workflow, then run Get Webhook URL again.';
    await expect(getWebhookUrl()).rejects.toThrow(none);
    await activate(hookContext(store.credential));
    expect(await getWebhookUrl()).toHaveLength(1);
    await deactivate(hookContext(store.credential));
    await expect(getWebhookUrl()).rejects.toThrow(none);
  });

  it("never records the editor's test URL, and removing it leaves the production URL", async () => {
    await activate(hookContext(store.credential, {}, { mode: 'manual' }));
    await expect(getWebhookUrl()).rejects.toThrow('No active WhatsApp Inbound Webhook Trigger');
    await activate(hookContext(store.credential));
    await deactivate(hookContext(store.credential, {}, { mode: 'manual' }));
    expect((await getWebhookUrl()).map((item) => item.url)).toEqual([`${BASE}/hook-node-1/whatsapp/${TOKEN}`]);
  });

  it('deactivates even when the credential no longer parses', async () => {
    await expect(deactivate(hookContext({ ...store.credential, dryRunPhones: 'abc' }))).resolves.toBe(true);
  });
});

describe('the credential test', () => {
  const test = whatsApp.methods.credentialTest.whatsAppWorkspaceTest;
  const storePath = () => {
    const settings = settingsFromCredential(store.credential);
    return settings.ok ? settings.value.storeKey : '';
  };

  it('says where the URL comes from while no trigger is active, then lists each active URL', async () => {
    const before = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: store.credential });
    expect(before).toEqual({
      status: 'OK',
      message: `Store ${storePath()} is open; +15105566777 (dry-run): open; no active trigger yet: activate a WhatsApp Inbound Webhook Trigger to get the webhook URL.`,
    });
    await activate(hookContext(store.credential, { dedicatedPort: 5700 }));
    const after = await test.call({} as never, { id: '1', name: 'x', type: 'whatsAppWorkspaceApi', data: store.credential });
    expect(after.message).toBe(
      `Store ${storePath()} is open; +15105566777 (dry-run): open; webhook URL: ${BASE}/hook-node-1/whatsapp/${TOKEN} (Dedicated Port: http://n8n.example.com:5700/whatsapp/${TOKEN}).`,
    );
  });
});

describe("the trigger's notice", () => {
  it('says in one line where to get the URL', () => {
    const notice = trigger.description.properties.find((property) => property.type === 'notice')!;
    expect(notice.displayName).toBe('Activate the workflow, then run the WhatsApp node\'s "Get Webhook URL" operation (or Test the credential) for the full URL to paste.');
  });
});
