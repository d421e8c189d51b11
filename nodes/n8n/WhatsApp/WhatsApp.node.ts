import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { errorBodyFor } from '../../../shared';
import { CREDENTIAL_NAME, settingsFromCredential, withWorkspace } from '../common/workspace-access';
import { testWorkspaceCredential } from './credential-test';
import { properties, type Operation } from './description';
import { operations, Refusal } from './operations';

/**
 * Sends WhatsApp messages from the workspace's linked phones, and manages the workspace: accounts,
 * chats, the webhook URL and its attempt log. Every rule is the core's; this node only translates.
 */
export class WhatsApp implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'WhatsApp (Own Phone)',
    name: 'whatsApp',
    icon: 'file:whatsapp.svg',
    group: ['output'],
    version: 1,
    subtitle: '={{$parameter["operation"]}}',
    description: 'Send WhatsApp messages from your own linked phone, paced and durable',
    defaults: { name: 'WhatsApp' },
    inputs: ['main'],
    outputs: ['main'],
    credentials: [{ name: CREDENTIAL_NAME, required: true, testedBy: 'whatsAppWorkspaceTest' }],
    properties,
  };

  methods = {
    credentialTest: { whatsAppWorkspaceTest: testWorkspaceCredential },
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const settings = settingsFromCredential(await this.getCredentials(CREDENTIAL_NAME));
    if (!settings.ok) throw new NodeOperationError(this.getNode(), `The WhatsApp Workspace credential is not valid: ${settings.rejection.message}`);
    const items = this.getInputData();
    let workspaceError: Error | undefined;
    const output = await withWorkspace(settings.value, async (workspace) => {
      const results: INodeExecutionData[] = [];
      for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
        const operation = this.getNodeParameter('operation', itemIndex) as Operation;
        try {
          const produced = await operations[operation]({ fn: this, workspace, settings: settings.value, itemIndex });
          results.push(...produced.map((item) => ({ ...item, pairedItem: { item: itemIndex } })));
        } catch (error) {
          const status = error instanceof Refusal ? error.status : 500;
          const message = (error as Error).message;
          if (this.continueOnFail()) {
            const body = errorBodyFor(status, message);
            results.push({ json: { error: message, response: { status, body } } as never, pairedItem: { item: itemIndex } });
            continue;
          }
          workspaceError = new NodeOperationError(this.getNode(), message, { itemIndex, description: `Status ${status}` });
          break;
        }
      }
      return results;
    }).catch((error: unknown) => {
      throw error instanceof NodeOperationError ? error : new NodeOperationError(this.getNode(), (error as Error).message);
    });
    if (workspaceError) throw workspaceError;
    return [output];
  }
}
