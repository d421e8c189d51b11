import type { NodeAPI } from 'node-red';
import { workspaceOverview, type WorkspaceOverview } from '../../shared';
import { readyWorkspace } from './ready-workspace';
import type { WorkspaceConfigNode } from './types';

/** A listing waits this long for a workspace still opening, then shows why it is not open. */
const LIST_WAIT_MS = 300;

/** One deployed whatsapp-workspace as the editor's WhatsApp sidebar shows it. */
export interface WorkspaceListing {
  readonly id: string;
  readonly name: string;
  /** Why its workspace is not open now (a sentence); null when it is and `overview` is set. */
  readonly problem: string | null;
  /** The webhook as a path under the editor's origin (httpNodeRoot + whatsapp/<token>), never the bare token. */
  readonly overview: (Omit<WorkspaceOverview, 'webhook'> & { readonly webhook: WebhookPath }) | null;
}

export interface WebhookPath {
  readonly path: string;
  readonly enabled: boolean;
}

/** The webhook's path under Node-RED's httpNodeRoot. */
export function webhookPath(RED: NodeAPI, token: string): string {
  const nodeRoot = ((RED.settings as { httpNodeRoot?: string | false }).httpNodeRoot || '/').replace(/\/?$/, '/');
  return `${nodeRoot}whatsapp/${token}`;
}

/** Every deployed whatsapp-workspace config node, in flow order, each with its workspace at a glance. */
export async function listWorkspaces(RED: NodeAPI): Promise<WorkspaceListing[]> {
  const ids: string[] = [];
  RED.nodes.eachNode((def: { id: string; type: string }) => {
    if (def.type === 'whatsapp-workspace') ids.push(def.id);
  });
  const listings = await Promise.all(ids.map((id) => listing(RED, id)));
  return listings.filter((entry): entry is WorkspaceListing => entry !== undefined);
}

async function listing(RED: NodeAPI, id: string): Promise<WorkspaceListing | undefined> {
  const node = RED.nodes.getNode(id) as WorkspaceConfigNode | null;
  // A node defined but not running (its flow is disabled, or a deploy is under way) is not listed.
  if (!node?.workspace) return undefined;
  const name = node.name || id;
  try {
    const { webhook, ...overview } = await workspaceOverview(await readyWorkspace(node, LIST_WAIT_MS));
    return { id, name, problem: null, overview: { ...overview, webhook: { path: webhookPath(RED, webhook.token), enabled: webhook.enabled } } };
  } catch (error) {
    return { id, name, problem: error instanceof Error ? error.message : String(error), overview: null };
  }
}
