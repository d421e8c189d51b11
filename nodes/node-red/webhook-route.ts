import type { IncomingMessage } from 'node:http';
import type { Node, NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { MAX_BODY_BYTES, readBody, WebhookRoutes, type Workspace, type WebhookOutcome } from '../../shared';

/** Where the webhook answers, under Node-RED's httpNodeRoot. */
export const WEBHOOK_ROUTE = '/whatsapp/:token';

type AcceptedListener = (accepted: NonNullable<WebhookOutcome['accepted']>) => void;

const routes = new WebhookRoutes();
const listeners = new Map<string, { workspace: Workspace; onAccepted: AcceptedListener }>();
const mountedOn = new WeakSet<object>();

/**
 * Mounts the webhook route once per Node-RED HTTP app. Deploys never add routes: webhook nodes only
 * register in the table the one route dispatches through, and unregister when they close.
 */
export function mountWebhookRoute(RED: NodeAPI): void {
  const app = RED.httpNode as unknown as { all: (path: string, handler: (req: Request, res: Response) => void) => void };
  if (mountedOn.has(app)) return;
  mountedOn.add(app);
  app.all(WEBHOOK_ROUTE, (req, res) => {
    void serve(req, res).catch((error: unknown) => {
      RED.log.error(`WhatsApp webhook: ${String(error)}`);
      if (!res.headersSent) res.status(500).json({ status: 500, data: {}, message: 'Internal error; the request was not queued.' });
    });
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
