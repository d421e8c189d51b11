import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import { lifecyclePayload, REPORTED_STATUSES, sendFromFlow, type Workspace } from '../../shared';
import { attachmentFrom, sendPayloadFrom } from './send-payload';
import { NotReadyError, readyWorkspace } from './ready-workspace';
import { watchWorkspaceStatus } from './status';
import type { SendNodeDef, WorkspaceConfigNode } from './types';

/** How many recent requests a node remembers to route their status changes to its second output. */
const TRACKED_REQUESTS = 10_000;

/** A rejected send, with the HTTP-like status the webhook would have answered. */
class SendError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }

  /** Node-RED puts toString() in msg.error.message: keep it the sentence alone, as the webhook answers it. */
  override toString(): string {
    return this.message;
  }
}

/**
 * The whatsapp-send node: queues `msg.payload` (the webhook's JSON shape, or the editor's fields) for
 * sending, paced and durable like a webhook call. Output 1: the accepted message id at once. Output 2
 * (optional): the message's later lifecycle changes. Refusals go to done(err), so Catch nodes see them.
 */
export = function register(RED: NodeAPI): void {
  function WhatsAppSendNode(this: Node, def: SendNodeDef): void {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.workspace) as WorkspaceConfigNode | null;
    const tracked = new Map<string, NodeMessageInFlow>();
    const stops: (() => void)[] = [];
    let closed = false;

    if (config) {
      config.workspace.then(
        (workspace: Workspace) => {
          if (closed) return;
          stops.push(watchWorkspaceStatus(this, workspace));
          if (def.statusOutput) {
            stops.push(
              workspace.onMessageChange((change) => {
                const msg = tracked.get(change.requestId);
                if (msg && REPORTED_STATUSES.has(change.status)) {
                  this.send([null, { ...msg, topic: change.status, payload: lifecyclePayload(change) }]);
                }
              }),
            );
          }
        },
        () => this.status({ fill: 'red', shape: 'ring', text: 'workspace failed to open' }),
      );
    } else {
      this.status({ fill: 'red', shape: 'ring', text: 'no workspace chosen' });
    }

    this.on('input', (msg: NodeMessageInFlow, send, done) => {
      const sendMessage = async () => {
        if (!config) throw new SendError('Choose a WhatsApp workspace in this node before sending.', 400);
        const workspace = await readyWorkspace(config).catch((error: unknown) => {
          throw error instanceof NotReadyError ? new SendError(error.message, 503) : error;
        });
        const attachment = attachmentFrom(msg);
        const payload = sendPayloadFrom(def, attachment && Buffer.isBuffer(msg.payload) ? undefined : msg.payload, attachment !== undefined);
        const sent = await sendFromFlow(workspace, payload, `node-red:${this.id}`, attachment);
        if (!sent.ok) throw new SendError(sent.rejection.message, sent.rejection.status);
        if (def.statusOutput) remember(tracked, sent.value.acceptance.messageId, msg);
        send([{ ...msg, payload: sent.value.payload }, null]);
      };
      sendMessage().then(
        () => done(),
        (error: unknown) => {
          (msg as { statusCode?: number }).statusCode = error instanceof SendError ? error.status : 500;
          done(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      for (const stop of stops) stop();
      tracked.clear();
      done();
    });
  }

  RED.nodes.registerType('whatsapp-send', WhatsAppSendNode);
};

/** Remembers the input message of a request, forgetting the oldest beyond the limit. */
function remember(tracked: Map<string, NodeMessageInFlow>, requestId: string, msg: NodeMessageInFlow): void {
  tracked.set(requestId, msg);
  if (tracked.size > TRACKED_REQUESTS) tracked.delete(tracked.keys().next().value!);
}
