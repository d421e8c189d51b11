import {
  NodeOperationError,
  type IDataObject,
  type INodeExecutionData,
  type INodeType,
  type INodeTypeDescription,
  type IRun,
  type ITriggerFunctions,
  type ITriggerResponse,
} from 'n8n-workflow';
import {
  lifecyclePayload,
  parseReceivedTriggerSettings,
  REPORTED_STATUSES,
  type ReceivedItem,
  type ReceivedTriggerSettings,
  type Workspace,
} from '../../../shared';
import { CREDENTIAL_NAME, holdWorkspace, settingsFromCredential } from '../common/workspace-access';
import { CONCURRENT_EXECUTIONS, executionEnd } from '../common/executions';
import { properties, type TriggerEvent } from './description';

/** The binary property a received message's media goes in. */
export const MEDIA_PROPERTY = 'data';

/** The durable name of an active trigger's place in the received messages (and of its editor tests). */
export function readerKey(workflowId: string | undefined, node: { readonly id?: string; readonly name: string }, manual = false): string {
  return `n8n-in${manual ? '-test' : ''}:${workflowId ?? ''}:${node.id || node.name}`;
}

/**
 * Starts a workflow for each WhatsApp message that reaches the workspace's accounts (and, if chosen, each
 * status change of a sent message and each account state), with no webhook: received messages are read
 * from the workspace's store, so what arrived while the workflow was inactive or n8n was down is emitted
 * once it is active again, each once. Every rule is the core's; this node only translates.
 */
export class WhatsAppMessageTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'WhatsApp Trigger',
    name: 'whatsAppMessageTrigger',
    icon: 'file:whatsapp.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{$parameter["events"].join(", ")}}',
    description: 'Starts the workflow when a WhatsApp message reaches your own linked phone',
    defaults: { name: 'WhatsApp Trigger' },
    inputs: [],
    outputs: ['main'],
    credentials: [{ name: CREDENTIAL_NAME, required: true }],
    properties,
  };

  /**
   * While the workflow is active: one execution per received message, in order, at most
   * CONCURRENT_EXECUTIONS at once; the place in the store moves past a message once its execution ended.
   * In the editor (manual mode) only what arrives from now on is emitted, and the active workflow's place
   * is left alone.
   */
  async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
    const credential = settingsFromCredential(await this.getCredentials(CREDENTIAL_NAME));
    if (!credential.ok) throw new NodeOperationError(this.getNode(), `The WhatsApp Workspace credential is not valid: ${credential.rejection.message}`);
    const events = new Set(this.getNodeParameter('events', ['message']) as TriggerEvent[]);
    const parsed = parseReceivedTriggerSettings({
      ...(this.getNodeParameter('filters', {}) as IDataObject),
      markRead: this.getNodeParameter('markRead', false),
      downloadMedia: this.getNodeParameter('downloadMedia', false),
      // Hidden (so absent) unless Download Media is on; blank means the default limit.
      maxMediaMB: this.getNodeParameter('maxMediaMB', ''),
    });
    if (!parsed.ok) throw new NodeOperationError(this.getNode(), parsed.rejection.message);
    let lease: Awaited<ReturnType<typeof holdWorkspace>>;
    try {
      lease = await holdWorkspace(credential.value);
    } catch (error) {
      throw new NodeOperationError(this.getNode(), (error as Error).message);
    }
    const { workspace } = lease;
    const manual = this.getMode() === 'manual';
    const stops: (() => unknown)[] = [];
    let closed = false;

    const start = async () => {
      if (events.has('status')) {
        stops.push(
          workspace.onMessageChange((change) => {
            if (REPORTED_STATUSES.has(change.status)) this.emit([[{ json: { event: 'status', ...lifecyclePayload(change) } }]]);
          }),
        );
      }
      if (events.has('account')) {
        stops.push(
          workspace.onAccountChange((connection) =>
            this.emit([[{ json: { event: 'account', account_id: connection.account.id, phone: connection.account.phone, state: connection.state, detail: connection.detail } }]]),
          ),
        );
      }
      if (!events.has('message')) return;
      const reader = readerKey(this.getWorkflow().id, this.getNode(), manual);
      // A test in the editor shows the next message, not one that arrived before it was started.
      if (manual) await workspace.received.skip(reader);
      const follower = await workspace.received.follow({
        reader,
        filter: parsed.value.filter,
        perDelivery: 1,
        concurrency: CONCURRENT_EXECUTIONS,
        deliver: emitter(this, workspace, parsed.value),
      });
      if (closed) await follower.stop();
      else stops.push(() => follower.stop());
    };

    const closeFunction = async () => {
      closed = true;
      for (const stop of stops.reverse()) await Promise.resolve().then(stop).catch((error: unknown) => this.logger.error(`WhatsApp Trigger: ${String(error)}`));
      await lease.release();
    };
    if (manual) {
      // n8n replaces emit() for a test only once trigger() has returned; it calls this next.
      return { closeFunction, manualTriggerFunction: start };
    }
    try {
      await start();
    } catch (error) {
      await closeFunction();
      throw new NodeOperationError(this.getNode(), `The WhatsApp Trigger could not start: ${(error as Error).message}`);
    }
    return { closeFunction };
  }
}

/**
 * Hands each received message to n8n as one execution. Emissions keep the feed's order even when one
 * waits for its media; the returned promise settles when the execution has ended (n8n says so through
 * the done promise), which holds the trigger's place in the store before that message until then.
 */
function emitter(context: ITriggerFunctions, workspace: Workspace, settings: ReceivedTriggerSettings): (items: ReceivedItem[]) => Promise<void> {
  let emitting: Promise<unknown> = Promise.resolve();
  const report = (error: unknown) => context.logger.error(`WhatsApp Trigger: ${error instanceof Error ? error.message : String(error)}`);

  const executionItem = async (item: ReceivedItem): Promise<INodeExecutionData> => {
    const json = { ...item.message } as unknown as IDataObject;
    if (!settings.downloadMedia || !item.message.media) return { json };
    const media = await workspace.received.media(item.stored, settings.maxMediaBytes);
    if (!media.ok) return { json: { ...json, media_error: media.reason } };
    try {
      return { json, binary: { [MEDIA_PROPERTY]: await context.helpers.prepareBinaryData(media.data, media.fileName, media.mimetype) } };
    } catch (error) {
      return { json: { ...json, media_error: `The media could not be handed to n8n: ${(error as Error).message}` } };
    }
  };

  return (items) => {
    const done = context.helpers.createDeferredPromise<IRun>();
    const emitted = (emitting = emitting.then(async () => {
      try {
        context.emit([await Promise.all(items.map(executionItem))], undefined, done);
      } catch (error) {
        // Handed over all the same: emitting again would only fail again.
        report(error);
        done.resolve(undefined as unknown as IRun);
        return;
      }
      if (settings.markRead) {
        workspace.received.markHandedOverRead(items).catch(report);
      }
    }));
    return emitted.then(() => executionEnd(done.promise));
  };
}
