import type { NodeAPI } from 'node-red';
import { feedFollowing, lifecyclePayload, OPENING, REPORTED_STATUSES, type Workspace } from '../../shared';
import { watchWorkspaceStatus } from './status';
import type { WebhookNodeDef, WorkspaceConfigNode } from './types';
import { holdDuringDeploys, InTransit } from './in-transit';
import { awaitWorkspace, mountWebhookRoute, processTagOf, serveWebhook } from './webhook-route';

/**
 * The whatsapp-webhook node: serves the workspace's TimelinesAI-compatible webhook at
 * POST <httpNodeRoot>/whatsapp/<token>. Output 1: each accepted message, read from the workspace's feed
 * so that what was accepted during a redeploy or restart is emitted too. Output 2: lifecycle changes of
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
    const stops: (() => unknown)[] = [awaitWorkspace(this.id, OPENING, config.storeKey)];
    let closed = false;
    stops.push(
      config.onProblem((problem) => {
        if (closed || problem === undefined) return;
        awaitWorkspace(this.id, problem, config.storeKey);
        this.status({ fill: 'red', shape: 'ring', text: problem.slice(0, 60) });
      }),
    );
    // On a shared store (several Node-RED instances) this node emits what its own instance took.
    const { reader, via } = feedFollowing(config.sharedStore, processTagOf(RED), `node-red:${this.id}`);
    const start = async (workspace: Workspace) => {
      stops.push(
        serveWebhook(this.id, workspace, config.storeKey),
        workspace.onMessageChange((change) => {
          if (REPORTED_STATUSES.has(change.status)) this.send([null, { topic: change.status, payload: lifecyclePayload(change) }]);
        }),
        watchWorkspaceStatus(this, workspace),
      );
      // Nothing wired to the first output: no reason to read accepted messages back from the store.
      if (!def.wires?.[0]?.length) {
        await workspace.skipAccepted(reader);
        stops.push(() => workspace.skipAccepted(reader));
        return;
      }
      const inTransit = new InTransit();
      const follower = await workspace.followAccepted({
        reader,
        ...(via === undefined ? {} : { via }),
        deliver: (payloads, after) => {
          for (const payload of payloads) this.send([{ payload }, null]);
          inTransit.sent(after);
        },
      });
      if (closed) return follower.stop();
      stops.push(() => follower.stop(), holdDuringDeploys(RED, follower, inTransit));
    };
    config.workspace.then(
      (workspace) => (closed ? undefined : start(workspace)),
      (error: unknown) => {
        const reason = String(error instanceof Error ? error.message : error);
        awaitWorkspace(this.id, reason, config.storeKey);
        this.status({ fill: 'red', shape: 'ring', text: reason.slice(0, 60) });
      },
    ).catch((error: unknown) => this.error(`The WhatsApp webhook could not start: ${String(error)}`));
    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      // Stopped in reverse: the feed reader writes where it got to before the route is given up.
      Promise.all(stops.reverse().map((stop) => Promise.resolve().then(stop)))
        .catch((error: unknown) => this.error(String(error)))
        .finally(() => done());
    });
  }

  RED.nodes.registerType('whatsapp-webhook', WhatsAppWebhookNode);
};
