import type { Node, NodeAPI } from 'node-red';
import { feedFollowing, parseReceivedTriggerSettings, type ReceivedItem, type Workspace } from '../../shared';
import { holdDuringDeploys, InTransit } from './in-transit';
import type { InNodeDef, WorkspaceConfigNode } from './types';
import { processTagOf } from './webhook-route';

/**
 * The whatsapp-in node: one message per WhatsApp message that reaches the workspace's accounts
 * (msg.payload in the shape the node's help documents, msg.media the bytes when asked for), read from
 * the workspace's record so that what arrived during a redeploy or restart is emitted afterwards, once.
 */
export = function register(RED: NodeAPI): void {
  function WhatsAppInNode(this: Node, def: InNodeDef): void {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.workspace) as WorkspaceConfigNode | null;
    if (!config) {
      this.status({ fill: 'red', shape: 'ring', text: 'no workspace chosen' });
      return;
    }
    const settings = parseReceivedTriggerSettings(def as unknown as Record<string, unknown>);
    if (!settings.ok) {
      this.status({ fill: 'red', shape: 'ring', text: settings.rejection.message.slice(0, 60) });
      this.error(settings.rejection.message);
      return;
    }
    const { filter, markRead, downloadMedia, maxMediaBytes } = settings.value;
    // On a shared store (several Node-RED instances run this flow) each emits what its own instance received.
    const { reader, via } = feedFollowing(config.sharedStore, processTagOf(RED), `node-red-in:${this.id}`);
    const stops: (() => unknown)[] = [];
    let closed = false;

    const messageOf = (item: ReceivedItem): Record<string, unknown> => ({ topic: item.message.type, payload: item.message });
    const markReadOf = (workspace: Workspace, items: readonly ReceivedItem[]) =>
      markRead ? workspace.received.markHandedOverRead(items) : Promise.resolve();
    const report = (error: unknown) => this.error(`WhatsApp in: ${String(error)}`);
    // A message emitted but not marked read (the connection dropped) only lacks its blue ticks: a warning.
    const readFailed = (error: unknown) => this.warn(`WhatsApp in: could not mark messages read: ${String(error)}`);

    /** Emits in order; with media asked for, each message waits for its bytes (the feed waits with it). */
    const deliver = (workspace: Workspace, inTransit: InTransit, items: ReceivedItem[], after: number): Promise<void> | undefined => {
      if (!downloadMedia) {
        for (const item of items) this.send(messageOf(item));
        inTransit.sent(after);
        markReadOf(workspace, items).catch(readFailed);
        return undefined;
      }
      return (async () => {
        for (const item of items) {
          const msg = messageOf(item);
          if (item.message.media) {
            const media = await workspace.received.media(item.stored, maxMediaBytes);
            if (media.ok) msg.media = media.data;
            else msg.mediaError = media.reason;
          }
          this.send(msg);
        }
        inTransit.sent(after);
        await markReadOf(workspace, items).catch(readFailed);
      })().catch(report);
    };

    const start = async (workspace: Workspace) => {
      const inTransit = new InTransit();
      const follower = await workspace.received.follow({
        reader,
        filter,
        ...(via === undefined ? {} : { via }),
        deliver: (items, after) => deliver(workspace, inTransit, items, after),
      });
      if (closed) return follower.stop();
      this.status({ fill: 'green', shape: 'dot', text: 'listening' });
      stops.push(() => follower.stop(), holdDuringDeploys(RED, follower, inTransit));
    };
    config.workspace.then(
      (workspace) => (closed ? undefined : start(workspace)),
      (error: unknown) => this.status({ fill: 'red', shape: 'ring', text: String(error instanceof Error ? error.message : error).slice(0, 60) }),
    ).catch((error: unknown) => this.error(`WhatsApp in could not start: ${String(error)}`));
    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      Promise.all(stops.reverse().map((stop) => Promise.resolve().then(stop)))
        .catch((error: unknown) => this.error(String(error)))
        .finally(() => done());
    });
  }

  RED.nodes.registerType('whatsapp-in', WhatsAppInNode);
};
