import type { IncomingMessage, Server } from 'node:http';
import type { Node, NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { MAX_BODY_BYTES, readBody, WebhookRoutes, type Workspace, type WebhookOutcome } from '../../shared';

/** Where the webhook answers, under Node-RED's httpNodeRoot. */
export const WEBHOOK_ROUTE = '/whatsapp/:token';

type AcceptedListener = (accepted: NonNullable<WebhookOutcome['accepted']>) => void;

const routes = new WebhookRoutes();
const listeners = new Map<string, { workspace: Workspace; onAccepted: AcceptedListener }>();
const mountedOn = new WeakSet<object>();
const rawBodiesKeptOn = new WeakSet<object>();

/**
 * Mounts the webhook route once per Node-RED HTTP app. Deploys never add routes: webhook nodes only
 * register in the table the one route dispatches through, and unregister when they close.
 */
export function mountWebhookRoute(RED: NodeAPI): void {
  const app = RED.httpNode as unknown as { all: (path: string, handler: (req: Request, res: Response) => void) => void };
  if (mountedOn.has(app)) return;
  mountedOn.add(app);
  keepRawBodies(RED);
  app.all(WEBHOOK_ROUTE, (req, res) => {
    void serve(req, res).catch((error: unknown) => {
      RED.log.error(`WhatsApp webhook: ${String(error)}`);
      if (!res.headersSent) res.status(500).json({ status: 500, data: {}, message: 'Internal error; the request was not queued.' });
    });
  });
}

/**
 * Node-RED's admin app is mounted before httpNode (both at "/" by default) and parses every JSON body
 * with body-parser's strict parser. Without this, a body JSON.parse refuses (the seed's examples as
 * printed, with their non-breaking spaces after commas) got Express's HTML 400 page instead of our answer,
 * and a valid body reached the webhook re-serialised, not as sent. body-parser skips a request already
 * marked as read (`req._body`), so webhook requests are marked before Express sees them and the route
 * reads the exact bytes.
 */
function keepRawBodies(RED: NodeAPI): void {
  const server = (RED as unknown as { server?: Server }).server;
  if (!server || typeof server.prependListener !== 'function' || rawBodiesKeptOn.has(server)) return;
  rawBodiesKeptOn.add(server);
  const nodeRoot = (RED.settings as { httpNodeRoot?: string | false }).httpNodeRoot;
  if (nodeRoot === false) return;
  const prefix = `${(nodeRoot || '/').replace(/\/?$/, '/')}whatsapp/`.toLowerCase();
  server.prependListener('request', (req: IncomingMessage) => {
    if (req.url?.toLowerCase().startsWith(prefix)) (req as { _body?: boolean })._body = true;
  });
}

/** Serves `workspace`'s webhook for `node` until the returned function is called. */
export function serveWebhook(node: Node, workspace: Workspace, onAccepted: AcceptedListener): () => void {
  routes.add(node.id, workspace);
  listeners.set(node.id, { workspace, onAccepted });
  return () => {
    routes.remove(node.id);
    listeners.delete(node.id);
  };
}

async function serve(req: Request, res: Response): Promise<void> {
  const outcome = await routes.handle({
    method: req.method,
    contentType: req.headers['content-type'],
    body: await rawBody(req),
    token: String(req.params.token ?? ''),
    remoteAddress: req.ip ?? req.socket.remoteAddress ?? null,
  });
  res.status(outcome.answer.status).set(outcome.answer.headers).json(outcome.answer.body);
  if (!outcome.accepted) return;
  for (const listener of listeners.values()) {
    if (listener.workspace === outcome.workspace) listener.onAccepted(outcome.accepted);
  }
}

/**
 * The body exactly as sent. If a middleware (httpNodeMiddleware) already parsed it, its result is used
 * instead: re-serialised JSON, or the text it kept.
 */
async function rawBody(req: Request): Promise<Buffer | string> {
  const stream = req as IncomingMessage;
  if (!stream.readableEnded) return readBody(stream, MAX_BODY_BYTES);
  const parsed: unknown = (req as { body?: unknown }).body;
  if (Buffer.isBuffer(parsed) || typeof parsed === 'string') return parsed;
  return parsed === undefined ? '' : JSON.stringify(parsed);
}
