import type { NodeAPI } from 'node-red';
import { acceptedPayload, lifecyclePayload, REPORTED_STATUSES, type Workspace } from '../../shared';
import { watchWorkspaceStatus } from './status';
import type { WebhookNodeDef, WorkspaceConfigNode } from './types';
import { mountWebhookRoute, serveWebhook } from './webhook-route';

/**
 * The whatsapp-webhook node: serves the workspace's TimelinesAI-compatible webhook at
 * POST <httpNodeRoot>/whatsapp/<token>. Output 1: each accepted message. Output 2: lifecycle changes of
 * the workspace's messages (sent, delivered, read, failed with its reason).
 */
export = function register(RED: NodeAPI): void {
  mountWebhookRoute(RED);

  function WhatsAppWebhookNode(this: import('node-red').Node, def: WebhookNodeDef): void {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.workspace) as WorkspaceConfigNode | null;
    if (!config) {
      this.status({ fill: 'red', shape: 'ring', text: 'no workspace chosen' });
      return;
    }
    const stops: (() => void)[] = [];
    let closed = false;
    config.workspace.then(
      (workspace: Workspace) => {
        if (closed) return;
        stops.push(
          serveWebhook(this, workspace, ({ acceptance, request }) => {
            this.send([{ payload: acceptedPayload(acceptance, request) }, null]);
          }),
          workspace.onMessageChange((change) => {
            if (REPORTED_STATUSES.has(change.status)) this.send([null, { topic: change.status, payload: lifecyclePayload(change) }]);
          }),
          watchWorkspaceStatus(this, workspace),
        );
      },
      (error: unknown) => this.status({ fill: 'red', shape: 'ring', text: String(error instanceof Error ? error.message : error).slice(0, 60) }),
    );
    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      for (const stop of stops) stop();
      done();
    });
  }

  RED.nodes.registerType('whatsapp-webhook', WhatsAppWebhookNode);
};
