import { EventEmitter } from 'node:events';
import type { NodeAPI } from 'node-red';
import { ensureDryRunAccounts, parseWorkspaceSettings, RetryingLease, ScrapeToken, sharedAcrossProcesses, storePathFor, workspaceOptionsFor, workspaces } from '../../shared';
import { registerAdminRoutes } from './admin-routes';
import { hostCloudApi, mountWebhookRoute, processTagOf } from './webhook-route';
import type { WorkspaceConfigCredentials, WorkspaceConfigDef, WorkspaceConfigNode } from './types';

/**
 * How long a released workspace stays open: a full deploy stops every node and starts them again, and
 * the new config node finds its workspace still open (no socket reconnects, the webhook keeps answering).
 */
const REDEPLOY_LINGER_MS = 15_000;

/**
 * The whatsapp-workspace config node: opens (or shares) the workspace of its store when deployed and
 * releases it when stopped. The webhook and send nodes reach the workspace through it.
 */
export = function register(RED: NodeAPI): void {
  function WhatsAppWorkspaceNode(this: WorkspaceConfigNode, def: WorkspaceConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this as { -readonly [K in keyof WorkspaceConfigNode]: WorkspaceConfigNode[K] };
    const dataDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const workspaceName = def.storeName || def.id;
    const storePath = storePathFor(dataDir, workspaceName);
    // The PostgreSQL password, the scrape token and the Cloud API's secrets are kept in Node-RED's credential store, never in the flow file.
    const credentials = this.credentials ?? {};
    const settings = parseWorkspaceSettings(
      {
        ...def,
        pgPassword: credentials.pgPassword,
        metricsToken: credentials.metricsToken,
        cloudApiAccessToken: credentials.cloudApiAccessToken,
        cloudApiAppSecret: credentials.cloudApiAppSecret,
        cloudApiVerifyToken: credentials.cloudApiVerifyToken,
      },
      storePath,
      workspaceName,
    );
    const storeKey = settings.ok ? settings.value.storeKey : storePath;
    const problems = new EventEmitter();
    node.storeKey = storeKey;
    node.sharedStore = settings.ok && sharedAcrossProcesses(settings.value.store);
    node.scrapeToken = settings.ok && settings.value.metricsToken !== undefined ? new ScrapeToken(settings.value.metricsToken) : undefined;
    node.onProblem = (listener) => {
      problems.on('problem', listener);
      return () => problems.off('problem', listener);
    };
    if (!settings.ok) {
      node.problem = () => settings.rejection.message;
      node.workspace = Promise.reject(new Error(settings.rejection.message));
      this.workspace.catch(() => undefined);
      this.error(settings.rejection.message);
      return;
    }
    let reported: string | undefined;
    // Tags what this instance's connections receive: on a shared store each instance's whatsapp-in emits its own.
    const processTag = processTagOf(RED);
    const lease = new RetryingLease(workspaces, storeKey, () => ({ ...workspaceOptionsFor(settings.value), processTag }), {
      fingerprint: JSON.stringify(settings.value),
      lingerMs: REDEPLOY_LINGER_MS,
      prepare: (workspace) => ensureDryRunAccounts(workspace, settings.value.dryRunPhones),
      onProblem: (problem, error) => {
        if (problem && problem !== reported) this.error(`The WhatsApp workspace could not open: ${String(error)}. ${problem}`);
        reported = problem;
        problems.emit('problem', problem);
      },
    });
    node.problem = () => lease.problem;
    node.workspace = lease.workspace;
    // Meta's webhook for the Cloud API number is served at <httpNodeRoot>whatsapp/cloud-api, with or without a webhook node.
    let forgetCloudApi = (): void => undefined;
    let closed = false;
    if (settings.value.cloudApi) {
      mountWebhookRoute(RED);
      forgetCloudApi = hostCloudApi(this.id, undefined);
      lease.workspace.then(
        (workspace) => {
          if (closed) return;
          forgetCloudApi();
          forgetCloudApi = hostCloudApi(this.id, workspace);
        },
        () => undefined,
      );
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      forgetCloudApi();
      problems.removeAllListeners();
      lease.release().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType<WorkspaceConfigNode, WorkspaceConfigDef, unknown, WorkspaceConfigCredentials>('whatsapp-workspace', WhatsAppWorkspaceNode, {
    credentials: {
      pgPassword: { type: 'password' },
      metricsToken: { type: 'password' },
      cloudApiAccessToken: { type: 'password' },
      cloudApiAppSecret: { type: 'password' },
      cloudApiVerifyToken: { type: 'password' },
    },
  });
  registerAdminRoutes(RED);
  closeIdleWhenSettled(RED);
};

const watched = new WeakSet<object>();

/**
 * A released workspace lingers only across a deploy: once the deploy has started every node, one that no
 * node took back is closed at once, and so is every one when the flows stop for good (shutdown).
 */
function closeIdleWhenSettled(RED: NodeAPI): void {
  if (watched.has(RED.events)) return;
  watched.add(RED.events);
  RED.events.on('flows:started', () => void workspaces.closeIdle());
  RED.events.on('runtime-event', (event: { id?: string; payload?: { state?: string; deploy?: boolean } }) => {
    if (event?.id === 'runtime-state' && event.payload?.state === 'stop' && event.payload.deploy !== true) void workspaces.closeIdle();
  });
}
