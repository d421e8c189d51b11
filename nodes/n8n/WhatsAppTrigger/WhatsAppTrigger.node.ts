import {
  NodeConnectionTypes,
  NodeOperationError,
  type IDataObject,
  type IHookFunctions,
  type IRun,
  type INodeType,
  type INodeTypeDescription,
  type ITriggerFunctions,
  type ITriggerResponse,
  type IWebhookFunctions,
  type IWebhookResponseData,
} from 'n8n-workflow';
import {
  acceptedPayload,
  CLOUD_API_PATH_SEGMENT,
  errorBodyFor,
  createWebhookServer,
  parseJsonBody,
  lifecyclePayload,
  REPORTED_STATUSES,
  screenWebhookCall,
  serveWebhookCall,
  type Workspace,
} from '../../../shared';
import { CREDENTIAL_NAME, holdWorkspace, inQueueMode, refuseQueueMode, settingsFromCredential, withWorkspace } from '../common/workspace-access';
import { WindowBatcher } from './batcher';
import { linkWebhook, properties, webhooks, type Emission, type TriggerMode } from './description';
import { emitterFor, emitterKey, FOLLOWED_BY_FEED, registerEmitter } from './emitters';
import { BATCH_LIMIT, dedicatedHost, emitsFromFeed, feedKey } from './dedicated-port';
import { CONCURRENT_EXECUTIONS, executionEnd } from '../common/executions';
import { webhookCallFrom, writeAnswer } from './http';
import { publishedWebhook } from './published-url';
import { serveLinkPage } from './link-route';
import { serveCloudApiWebhook } from './cloud-api-route';

/**
 * Serves a workspace's TimelinesAI-compatible webhook at <n8n>/webhook/<webhook id>/whatsapp/<token>.
 * Output "Accepted": accepted (queue mode) or validated (pass mode) messages. Output "Status": lifecycle
 * changes of the workspace's messages. The contract is the core's; this node only translates.
 */
export class WhatsAppTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'WhatsApp Inbound Webhook Trigger',
    name: 'whatsAppTrigger',
    icon: 'file:whatsapp.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{$parameter["mode"] === "pass" ? "Pass to workflow" : "Queue for sending"}}',
    description: 'A TimelinesAI-compatible inbound webhook that sends WhatsApp messages from your own linked phone',
    defaults: { name: 'WhatsApp Inbound Webhook Trigger' },
    inputs: [],
    // Two outputs (accepted messages, status changes); the lint rule assumes a trigger has one.
    // eslint-disable-next-line n8n-nodes-base/node-class-description-outputs-wrong
    outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
    outputNames: ['Accepted', 'Status'],
    credentials: [{ name: CREDENTIAL_NAME, required: true }],
    webhooks,
    properties,
  };

  webhookMethods = {
    default: {
      async checkExists(this: IHookFunctions): Promise<boolean> {
        return false;
      },
      /**
       * Activation: refuses a credential that does not parse and queue mode on a SQLite store, with the reason; records
       * the production URL in the workspace (Get Webhook URL reads it). The editor's test URL is not recorded.
       */
      async create(this: IHookFunctions): Promise<boolean> {
        const settings = settingsFromCredential(await this.getCredentials(CREDENTIAL_NAME));
        if (!settings.ok) throw new NodeOperationError(this.getNode(), settings.rejection.message);
        try {
          refuseQueueMode(settings.value);
        } catch (error) {
          throw new NodeOperationError(this.getNode(), (error as Error).message);
        }
        const entry = this.getMode() === 'manual' ? undefined : publishedWebhook(this);
        if (entry) {
          await withWorkspace(settings.value, (workspace) => workspace.publishWebhookUrl(entry)).catch((error: unknown) => {
            throw new NodeOperationError(this.getNode(), `The WhatsApp workspace could not record this trigger's URL: ${(error as Error).message}`);
          });
        }
        return true;
      },
      /** Deactivation: forgets the URL this webhook served (the test URL's removal leaves the production one). */
      async delete(this: IHookFunctions): Promise<boolean> {
        // Deactivation goes on whatever happens here (a deleted credential, a store gone): the record is only a hint.
        try {
          const settings = settingsFromCredential(await this.getCredentials(CREDENTIAL_NAME));
          const entry = publishedWebhook(this);
          if (settings.ok && entry) await withWorkspace(settings.value, (workspace) => workspace.withdrawWebhookUrl(entry.flowId, entry.nodeId, entry.urlTemplate));
        } catch {
          // nothing to undo
        }
        return true;
      },
    },
  };

  async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
    if (this.getWebhookName() === linkWebhook.name) return serveLinkPage(this);
    const res = this.getResponseObject();
    const fail = (status: number, message: string): IWebhookResponseData => {
      writeAnswer(res, { status, headers: {}, body: errorBodyFor(status, message) });
      return { noWebhookResponse: true };
    };
    const settings = settingsFromCredential(await this.getCredentials(CREDENTIAL_NAME));
    if (!settings.ok) return fail(500, `The WhatsApp Workspace credential is not valid: ${settings.rejection.message}`);
    try {
      refuseQueueMode(settings.value);
    } catch (error) {
      return fail(503, (error as Error).message);
    }
    const token = String((this.getParamsData() as { token?: unknown }).token ?? '');
    // Meta's webhook for the credential's Cloud API number: verified and taken by the core, no execution.
    if (token === CLOUD_API_PATH_SEGMENT) return serveCloudApiWebhook(this, settings.value);
    const call = { ...(await webhookCallFrom(this.getRequestObject(), token)), via: feedKey(this.getWorkflow().id, this.getNode()) };
    const mode = this.getNodeParameter('mode', 'queue') as TriggerMode;

    return withWorkspace(settings.value, async (workspace): Promise<IWebhookResponseData> => {
      if (mode === 'pass') {
        const screened = await screenWebhookCall(workspace, call);
        if (!screened.ok) {
          writeAnswer(res, screened.outcome.answer);
          return { noWebhookResponse: true };
        }
        const item: IDataObject = {
          body: passedBody(call.body),
          recipient: screened.call.request.recipient as unknown as IDataObject,
          remote_address: call.remoteAddress,
        };
        return { workflowData: [[{ json: item }], []] };
      }

      const outcome = await serveWebhookCall(workspace, call);
      writeAnswer(res, outcome.answer);
      if (!outcome.accepted) return { noWebhookResponse: true };
      const item = acceptedPayload(outcome.accepted.acceptance, outcome.accepted.request) as unknown as IDataObject;
      return emit(this, item);
    }).catch((error: unknown) => {
      // Thrown here, n8n would answer 500 with its own body and record a failed execution per call.
      if (res.headersSent) return { noWebhookResponse: true };
      return fail(500, `The WhatsApp workspace could not serve the call: ${(error as Error).message}`);
    });
  }

  /** Runs while the workflow is active: holds the workspace open, emits batches and status changes. */
  async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
    const settings = settingsFromCredential(await this.getCredentials(CREDENTIAL_NAME));
    if (!settings.ok) throw new NodeOperationError(this.getNode(), settings.rejection.message);
    let lease: Awaited<ReturnType<typeof holdWorkspace>>;
    try {
      lease = await holdWorkspace(settings.value);
    } catch (error) {
      throw new NodeOperationError(this.getNode(), (error as Error).message);
    }
    const stops: (() => void | Promise<void>)[] = [];
    const queueMode = this.getNodeParameter('mode', 'queue') === 'queue';
    const emission = queueMode ? (this.getNodeParameter('emission', 'each') as Emission) : 'each';
    const port = queueMode ? Number(this.getNodeParameter('dedicatedPort', 0)) : 0;
    const fromFeed = emitsFromFeed({ queueForSending: queueMode, emission, dedicatedPort: port, n8nQueueMode: inQueueMode() });
    const windowMs = Math.max(100, Number(this.getNodeParameter('batchWindowSeconds', 5)) * 1000);
    if (emission === 'batch' && !fromFeed) {
      const batcher = new WindowBatcher(windowMs, (items) => this.emit([items.map((json) => ({ json })), []]));
      const batch = (item: IDataObject) => batcher.add(item);
      const unregister = registerEmitter(emitterKey(this.getWorkflow().id, this.getNode().name), batch);
      stops.push(() => {
        unregister();
        batcher.flushNow();
      });
    }
    if (this.getNodeParameter('emitStatus', true) === true) stops.push(watchStatus(lease.workspace, (json) => this.emit([[], [{ json }]])));
    const via = feedKey(this.getWorkflow().id, this.getNode());
    if (fromFeed) {
      // Emitted from the durable record: what was accepted while n8n was down or the workflow inactive
      // (on the port, or in queue mode on any webhook process) is emitted once it is active again, and
      // nothing waits in memory meanwhile.
      const follower = await lease.workspace.followAccepted({
        reader: via,
        via,
        perDelivery: emission === 'each' ? 1 : BATCH_LIMIT,
        concurrency: emission === 'each' ? CONCURRENT_EXECUTIONS : 1,
        intervalMs: emission === 'batch' ? windowMs : 0,
        deliver: (items) => {
          const done = this.helpers.createDeferredPromise<IRun>();
          this.emit([items.map((json) => ({ json: json as unknown as IDataObject })), []], undefined, done);
          return executionEnd(done.promise);
        },
      });
      stops.push(() => follower.stop(), registerEmitter(emitterKey(this.getWorkflow().id, this.getNode().name), FOLLOWED_BY_FEED));
    }
    if (port > 0) {
      const host = dedicatedHost(String(this.getNodeParameter('dedicatedHost', '')));
      try {
        stops.push(await serveOnDedicatedPort(lease.workspace, port, host, via, settings.value.metricsToken));
      } catch (error) {
        for (const stop of stops) await stop();
        await lease.release();
        throw new NodeOperationError(this.getNode(), (error as Error).message);
      }
    }
    return {
      closeFunction: async () => {
        for (const stop of stops) await stop();
        await lease.release();
      },
    };
  }
}

/** Hands an accepted message to the workflow as the node's emission setting says. */
function emit(context: IWebhookFunctions, item: IDataObject): IWebhookResponseData {
  // A test call from the editor always shows its message: that is what the editor waits for.
  const emission = context.getMode() === 'manual' ? 'each' : (context.getNodeParameter('emission', 'each') as Emission);
  if (emission === 'none') return { noWebhookResponse: true };
  const active = emitterFor(emitterKey(context.getWorkflow().id, context.getNode().name));
  // The active trigger's Dedicated Port emits everything this trigger accepts from its feed, this call's too.
  // In queue mode the trigger runs on n8n's main and this call on a webhook process, which holds no emitter:
  // the node's own settings say whether the main follows the feed (a Dedicated Port, or batches).
  const followedByFeed =
    active === FOLLOWED_BY_FEED ||
    (inQueueMode() && emitsFromFeed({ queueForSending: true, emission, dedicatedPort: Number(context.getNodeParameter('dedicatedPort', 0)), n8nQueueMode: true }));
  if (followedByFeed && context.getMode() !== 'manual') return { noWebhookResponse: true };
  if (emission === 'batch' && active && active !== FOLLOWED_BY_FEED) {
    active(item);
    return { noWebhookResponse: true };
  }
  return { noWebhookResponse: true, workflowData: [[{ json: item }], []] };
}

/**
 * The core's own HTTP server for this webhook on `port`: no n8n pipeline per call, so answering and
 * queueing cost what the core costs. Resolves once listening, with the function that closes it.
 */
async function serveOnDedicatedPort(workspace: Workspace, port: number, host: string | undefined, via: string, metricsToken: string | undefined): Promise<() => Promise<void>> {
  // Also serves /metrics and /healthz: with the credential's scrape token to anyone presenting it, else to this machine only.
  const server = createWebhookServer(workspace, { via, ...(metricsToken === undefined ? {} : { metricsToken }) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`The dedicated port ${port} cannot be used (${error.code ?? error.message}): choose a free port, or 0 to turn it off.`)),
    );
    server.listen(port, host, resolve);
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

function watchStatus(workspace: Workspace, emit: (json: IDataObject) => void): () => void {
  return workspace.onMessageChange((change) => {
    if (REPORTED_STATUSES.has(change.status)) emit(lifecyclePayload(change) as unknown as IDataObject);
  });
}

/** The body as the workflow sees it: the JSON that screening already parsed (it tolerates what the core tolerates). */
function passedBody(body: Buffer | string | undefined): IDataObject {
  const parsed = parseJsonBody(body ?? '');
  return (parsed.ok ? parsed.value : {}) as IDataObject;
}
