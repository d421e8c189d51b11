import { serveWebhookCall, type WebhookCall, type WebhookOutcome } from '../webhook';
import { errorBody } from '../contract/responses';
import { reject } from '../rejection';
import type { TokenCheck, Workspace } from '../workspace';

/**
 * Which workspaces answer at `…/whatsapp/<token>` in one process. An engine mounts a single route once
 * and dispatches through this table, which nodes fill when they start and empty when they stop: a
 * redeploy then never leaves a stale handler behind, and a rotated token stops matching at once.
 */
export class WebhookRoutes {
  private readonly owners = new Map<string, Workspace>();

  /** `ownerId` is the engine's node id; one workspace may be served by several nodes. */
  add(ownerId: string, workspace: Workspace): void {
    this.owners.set(ownerId, workspace);
  }

  remove(ownerId: string): void {
    this.owners.delete(ownerId);
  }

  /** The workspace whose current token this is (enabled or not), if any node serves it. */
  find(token: string): Workspace | undefined {
    return this.match(token)?.workspace;
  }

  /** The serving workspace and its check of the token, so the token is hashed once per call. */
  private match(token: string): { workspace: Workspace; check: TokenCheck } | undefined {
    const checked = new Set<Workspace>();
    for (const workspace of this.owners.values()) {
      if (checked.has(workspace)) continue;
      checked.add(workspace);
      const check = workspace.checkToken(token);
      if (check !== 'unknown') return { workspace, check };
    }
    return undefined;
  }

  async handle(call: WebhookCall): Promise<WebhookOutcome & { readonly workspace?: Workspace }> {
    const matched = this.match(call.token);
    if (!matched) return { answer: { status: 404, headers: {}, body: errorBody(reject(404, 'Webhook not found')) } };
    return { ...(await serveWebhookCall(matched.workspace, call, matched.check)), workspace: matched.workspace };
  }
}
