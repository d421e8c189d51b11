import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { attemptLogJson, CLOUD_API_PATH_SEGMENT, healthAnswer, metricsAnswer, presentedScrapeToken, refusal, summarizeAttempts, type EndpointAnswer, type LinkHandle, type Workspace } from '../../shared';
import { NotReadyError, readyWorkspace } from './ready-workspace';
import type { WorkspaceConfigNode } from './types';
import { listWorkspaces, webhookPath } from './workspace-list';

type Handler = (req: Request, res: Response) => void;
type Middleware = (req: Request, res: Response, next: () => void) => void;
interface AdminApp {
  get(path: string, ...handlers: Handler[]): void;
  post(path: string, ...handlers: Handler[]): void;
}

/** What a caller with a scrape token that matches neither the workspace's nor the editor's is told. */
const NEITHER_TOKEN =
  'The token is neither this workspace\'s scrape token nor an editor access token with the whatsapp-workspace.read permission: send the workspace\'s Scrape token as "Authorization: Bearer <token>".';
const NO_SCRAPE_TOKEN = 'This workspace has no scrape token: set its Scrape token, or log in to the editor.';

const BASE = '/whatsapp-workspace/:id';
/** Every deployed workspace at a glance, for the editor's WhatsApp sidebar. */
export const LIST_PATH = '/whatsapp-workspaces';
const mountedOn = new WeakSet<object>();
/** One linking attempt per workspace node at a time; a new one cancels the old. */
const links = new Map<string, LinkHandle>();

/** The topic the editor subscribes to for a workspace node's live QR and linking outcome. */
export function linkTopic(nodeId: string): string {
  return `whatsapp-workspace/${nodeId}/link`;
}

/**
 * Editor-only endpoints of the workspace dialog and the WhatsApp sidebar (Node-RED admin API, behind its
 * auth): the list of workspaces, state, "Generate new URL", "Webhook enabled", "Download log", linking by
 * QR or pairing code, and unlinking; and the workspace's Prometheus metrics and health, for the editor's
 * readers or a scraper with the workspace's scrape token. Mounted once.
 */
export function registerAdminRoutes(RED: NodeAPI): void {
  const app = RED.httpAdmin as unknown as AdminApp;
  if (mountedOn.has(app)) return;
  mountedOn.add(app);
  const read = RED.auth.needsPermission('whatsapp-workspace.read') as unknown as Handler;
  const write = RED.auth.needsPermission('whatsapp-workspace.write') as unknown as Handler;

  /**
   * Metrics and health: a caller presenting the workspace's scrape token (Bearer header or ?token=) is let
   * in without editor auth; anyone else goes through Node-RED's own check of the read permission. A Bearer
   * that is not the scrape token may be an editor's access token, so Node-RED checks it; if it refuses and
   * the workspace has a scrape token, the 401 says which tokens would do.
   */
  const scrapeOrRead: Middleware = (req, res, next) => {
    const node = RED.nodes.getNode(String(req.params.id)) as WorkspaceConfigNode | null;
    const presented = presentedScrapeToken(req.headers.authorization, req.originalUrl ?? req.url);
    const scrape = node?.scrapeToken;
    if (presented && scrape?.matches(presented.token)) {
      next();
      return;
    }
    if (presented?.from === 'query') {
      answerWith(res, refusal(401, scrape ? NEITHER_TOKEN : NO_SCRAPE_TOKEN));
      return;
    }
    if (presented && scrape) explainRefusal(res, NEITHER_TOKEN);
    (read as unknown as Middleware)(req, res, next);
  };

  const withWorkspace =
    (action: (workspace: Workspace, req: Request, res: Response) => Promise<unknown>): Handler =>
    (req, res) => {
      const node = RED.nodes.getNode(String(req.params.id)) as WorkspaceConfigNode | null;
      if (!node?.workspace) {
        res.status(404).json({ message: 'This workspace is not deployed yet: deploy it, then open this dialog again.' });
        return;
      }
      readyWorkspace(node)
        .then((workspace) => action(workspace, req, res))
        .catch((error: unknown) => {
          if (res.headersSent) return;
          res.status(error instanceof NotReadyError ? 503 : 400).json({ message: error instanceof Error ? error.message : String(error) });
        });
    };

  const state = async (workspace: Workspace) => ({
    webhook: {
      path: webhookPath(RED, workspace.webhookState().token),
      enabled: workspace.webhookState().enabled,
      // Meta's callback URL, where the workspace has a Cloud API number.
      cloudApiPath: workspace.cloudApi.numbers.length > 0 ? webhookPath(RED, CLOUD_API_PATH_SEGMENT) : null,
    },
    accounts: workspace.connections().map((connection) => ({
      id: connection.account.id,
      kind: connection.account.kind,
      phone: connection.account.phone,
      name: connection.account.name,
      state: connection.state,
      detail: connection.detail,
      pausedUntil: connection.pausedUntil === null ? null : new Date(connection.pausedUntil).toISOString(),
      pauseReason: connection.pauseReason,
    })),
    quota: await workspace.quota(),
    attempts: summarizeAttempts(await workspace.attempts(), 10),
  });

  app.get(LIST_PATH, read, (_req, res) => {
    listWorkspaces(RED).then(
      (workspaces) => res.json({ workspaces }),
      (error: unknown) => res.status(500).json({ message: error instanceof Error ? error.message : String(error) }),
    );
  });

  app.get(`${BASE}/state`, read, withWorkspace(async (workspace, _req, res) => res.json(await state(workspace))));

  const readOrScrape = scrapeOrRead as unknown as Handler;
  app.get(`${BASE}/metrics`, readOrScrape, withWorkspace(async (workspace, _req, res) => answerWith(res, await metricsAnswer(workspace))));
  app.get(`${BASE}/healthz`, readOrScrape, withWorkspace(async (workspace, _req, res) => answerWith(res, await healthAnswer(workspace))));

  app.post(
    `${BASE}/rotate`,
    write,
    withWorkspace(async (workspace, _req, res) => {
      await workspace.rotateWebhookToken();
      res.json(await state(workspace));
    }),
  );

  app.post(
    `${BASE}/enabled`,
    write,
    withWorkspace(async (workspace, req, res) => {
      await workspace.setWebhookEnabled((req.body as { enabled?: unknown })?.enabled !== false);
      res.json(await state(workspace));
    }),
  );

  app.get(
    `${BASE}/log`,
    read,
    withWorkspace(async (workspace, req, res) => {
      res.set('Content-Disposition', `attachment; filename="whatsapp-webhook-log-${String(req.params.id)}.json"`);
      res.type('application/json').send(attemptLogJson(await workspace.attempts(), Date.now()));
    }),
  );

  app.post(
    `${BASE}/link`,
    write,
    withWorkspace(async (workspace, req, res) => {
      const id = String(req.params.id);
      const pairingPhone = (req.body as { pairingPhone?: unknown })?.pairingPhone;
      await links.get(id)?.cancel().catch(() => undefined);
      const handle = workspace.startLink(typeof pairingPhone === 'string' && pairingPhone.trim() !== '' ? { pairingPhone } : {});
      links.set(id, handle);
      const publish = (data: object) => RED.comms.publish(linkTopic(id), data, false);
      handle.onQr((qr) => publish({ qr: qr.qr, dataUrl: qr.dataUrl }));
      handle.onPairingCode((pairingCode) => publish({ pairingCode }));
      handle.linked.then(
        (account) => publish({ linked: { id: account.id, phone: account.phone, name: account.name } }),
        (error: unknown) => publish({ error: error instanceof Error ? error.message : String(error) }),
      ).finally(() => {
        if (links.get(id) === handle) links.delete(id);
      });
      res.json({ started: true, topic: linkTopic(id) });
    }),
  );

  app.post(
    `${BASE}/accounts/:accountId/unlink`,
    write,
    withWorkspace(async (workspace, req, res) => {
      await workspace.unlink(String(req.params.accountId));
      res.json(await state(workspace));
    }),
  );
}

/** Written as the core wrote it (Express's send would rewrite the Prometheus content type). */
function answerWith(res: Response, answer: EndpointAnswer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

/** Gives Node-RED's own bare 401 (from its auth, for this request only) the contract's JSON body with `message`. */
function explainRefusal(res: Response, message: string): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.end = ((...args: unknown[]) => {
    if (res.statusCode !== 401 || res.headersSent) return end(...args);
    const body = refusal(401, message);
    for (const [name, value] of Object.entries(body.headers)) res.setHeader(name, value);
    res.setHeader('content-length', Buffer.byteLength(body.body));
    return end(body.body);
  }) as Response['end'];
}
