import { serveWebhookCall, answer, type WebhookCall, type WebhookOutcome } from './webhook';
import { reject } from '../rejection';
import { unavailable } from '../unavailable';
import type { TokenCheck, Workspace } from '../workspace/workspace';

/**
 * How long a workspace's token is still recognised after the last node serving it went away: a
 * redeploy closes every node and starts new ones, and a call meanwhile must be told to retry (or be
 * served by the workspace while it is still open), never that the URL is gone.
 */
const REDEPLOY_GRACE_MS = 30_000;

interface Match {
  readonly workspace: Workspace;
  readonly check: TokenCheck;
  /** The node that served it is being redeployed (see `between`). */
  readonly between?: string;
}

/** A node's workspace while the node is redeployed: its store's key, and until when it is recognised. */
interface Between {
  readonly workspace: Workspace;
  readonly key: string;
  readonly until: number;
}

/**
 * Which workspaces answer at `…/whatsapp/<token>` in one process. An engine mounts a single route once
 * and dispatches through this table, which nodes fill when they start and empty when they stop: a
 * redeploy then never leaves a stale handler behind, and a rotated token stops matching at once.
 */
export class WebhookRoutes {
  private readonly owners = new Map<string, { readonly workspace: Workspace; readonly key: string }>();
  /** Nodes whose workspace is not open (yet), with what to tell a caller meanwhile. */
  private readonly waiting = new Map<string, string>();
  /**
   * Nodes stopped by a redeploy, with the workspace they served: until the node is back (or the deploy
   * has settled without it), its token is still recognised, so a caller is served or told to retry.
   */
  private readonly between = new Map<string, Between>();

  constructor(private readonly now: () => number = Date.now) {}

  /** `ownerId` is the engine's node id; `key` names the workspace's store. One workspace may be served by several nodes. */
  add(ownerId: string, workspace: Workspace, key = ''): void {
    this.waiting.delete(ownerId);
    this.between.delete(ownerId);
    this.owners.set(ownerId, { workspace, key });
  }

  /**
   * A node whose workspace (of store `key`) is opening (`OPENING`), or cannot open (`reason` says why, in
   * a sentence). A failing one makes a token that no open workspace knows a 503, since it may be its.
   */
  wait(ownerId: string, reason: string, key = ''): void {
    this.waiting.set(ownerId, reason);
    // The node now serves another store: the old one's token is no longer its.
    if (this.between.get(ownerId)?.key !== key) this.between.delete(ownerId);
  }

  remove(ownerId: string): void {
    const served = this.owners.get(ownerId);
    this.owners.delete(ownerId);
    this.waiting.delete(ownerId);
    if (served) this.between.set(ownerId, { ...served, until: this.now() + REDEPLOY_GRACE_MS });
  }

  /** A deploy has started every node: a node that did not come back is gone, and so is its URL. */
  settle(): void {
    for (const ownerId of this.between.keys()) if (!this.waiting.has(ownerId)) this.between.delete(ownerId);
  }

  /** The serving workspace and its check of the token, so the token is hashed once per call. */
  private match(token: string): Match | undefined {
    const checked = new Set<Workspace>();
    for (const { workspace } of this.owners.values()) {
      if (checked.has(workspace)) continue;
      checked.add(workspace);
      const check = workspace.checkToken(token);
      if (check !== 'unknown') return { workspace, check };
    }
    const now = this.now();
    for (const [ownerId, { workspace, until }] of this.between) {
      if (until < now) {
        this.between.delete(ownerId);
        continue;
      }
      const check = workspace.checkToken(token);
      if (check !== 'unknown') return { workspace, check, between: ownerId };
    }
    return undefined;
  }

  async handle(call: WebhookCall): Promise<WebhookOutcome> {
    const matched = this.match(call.token);
    // While its node is redeployed, a workspace that is still open keeps accepting: what it accepts is
    // in its feed, which the webhook node emits once it is back.
    if (matched && (matched.between === undefined || matched.workspace.isOpen)) {
      return serveWebhookCall(matched.workspace, call, matched.check);
    }
    if (matched) return { answer: answer(unavailable(this.reasonFor(matched.between!) ?? REOPENING)) };
    const failing = [...this.waiting.values()].find((reason) => reason !== OPENING);
    if (failing) return { answer: answer(unavailable(failing)) };
    return { answer: answer(reject(404, 'Webhook not found')) };
  }

  private reasonFor(ownerId: string): string | undefined {
    const reason = this.waiting.get(ownerId);
    return reason === OPENING ? undefined : reason;
  }
}

const REOPENING = 'The webhook is being redeployed (its workspace is reopening).';

/** What a node waits with while its workspace opens normally. */
export const OPENING = 'opening';
