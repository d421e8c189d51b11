import type { IncomingMessage, Server } from 'node:http';
import { hostname } from 'node:os';
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { CLOUD_API_MAX_BODY_BYTES, cloudApiQueryOf, errorBodyFor, INTERNAL_ERROR_SENTENCE, MAX_BODY_BYTES, readBody, serveCloudApiCall, tokenFromPath, WebhookRoutes, type Workspace } from '../../shared';

/** Where the webhook answers, under Node-RED's httpNodeRoot: `<prefix>/<token>`. */
export const WEBHOOK_PREFIX = '/whatsapp';

const routes = new WebhookRoutes();
/**
 * Workspaces with a Cloud API number, by config node: Meta posts every number of an app to one callback
 * URL, `<prefix>/cloud-api`, and each call is matched to a number by its signature. Undefined: opening.
 */
const cloudApiHosts = new Map<string, Workspace | undefined>();
const mountedOn = new WeakSet<object>();
const rawBodiesKeptOn = new WeakSet<object>();
const settlingOn = new WeakSet<object>();

/**
 * Names this Node-RED instance: its instance id (kept in the user dir, so the same across restarts), else
 * its host and user dir. Every call the webhook takes is tagged with it (see feedFollowing).
 */
export function processTagOf(RED: NodeAPI): string {
  const settings = RED.settings as { get?: (key: string) => unknown; userDir?: string };
  let instanceId: unknown;
  try {
    instanceId = settings.get?.('instanceId');
  } catch {
    // Settings not loaded (a test runtime): fall back to the host and user dir.
  }
  return `node-red:${typeof instanceId === 'string' && instanceId !== '' ? instanceId : `${hostname()}:${settings.userDir ?? process.cwd()}`}`;
}

/**
 * Mounts the webhook route once per Node-RED HTTP app. Deploys never add routes: webhook nodes only
 * register in the table the one route dispatches through, and unregister when they close. The route is
 * a prefix, so the token is read from the URL here and a malformed one (`%zz`) is a 404 in the
 * contract's JSON, not Express's HTML error page.
 */
export function mountWebhookRoute(RED: NodeAPI): void {
  const app = RED.httpNode as unknown as { use: (path: string, handler: (req: Request, res: Response) => void) => void };
  if (mountedOn.has(app)) return;
  mountedOn.add(app);
  keepRawBodies(RED);
  if (!settlingOn.has(RED.events)) {
    settlingOn.add(RED.events);
    RED.events.on('flows:started', () => routes.settle());
  }
  let tag: string | undefined;
  app.use(WEBHOOK_PREFIX, (req, res) => {
    void serve(req, res, (tag ??= processTagOf(RED)), (warning) => RED.log.warn(`WhatsApp Cloud API webhook: ${warning}`)).catch((error: unknown) => {
      RED.log.error(`WhatsApp webhook: ${String(error)}`);
      if (!res.headersSent) res.status(500).json(errorBodyFor(500, INTERNAL_ERROR_SENTENCE));
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
  const prefix = `${(nodeRoot || '/').replace(/\/?$/, '/')}whatsapp`.toLowerCase();
  server.prependListener('request', (req: IncomingMessage) => {
    const url = req.url?.toLowerCase();
    // `/whatsapp` itself too: the route answers it (404 in the contract's JSON), so its body is the route's to read.
    if (!url?.startsWith(prefix) || !['/', '?', undefined].includes(url[prefix.length])) return;
    (req as { _body?: boolean })._body = true;
    // A token is letters, digits, "-" and "_". Anything else ("%2e%2e", "..") names no webhook, and must not
    // reach the editor's static files first (they would resolve it and redirect): the route answers 404.
    // `cloud-api/` is the Cloud API webhook's path with a trailing slash, which the route serves.
    const token = req.url!.slice(prefix.length + 1).split('?', 1)[0]!;
    if (/[^A-Za-z0-9_-]/.test(token) && cloudApiQueryOf(token) === undefined) req.url = `${req.url!.slice(0, prefix.length)}/~`;
  });
}

/** Serves `workspace` (of store `key`) for the node `nodeId` until the returned function is called. */
export function serveWebhook(nodeId: string, workspace: Workspace, key: string): () => void {
  routes.add(nodeId, workspace, key);
  return () => routes.remove(nodeId);
}

/**
 * The node's workspace (of store `key`) is not open: `OPENING`, or a sentence saying why it cannot
 * open, which callers get in a 503 meanwhile. Returns the function that forgets the node.
 */
export function awaitWorkspace(nodeId: string, reason: string, key: string): () => void {
  routes.wait(nodeId, reason, key);
  return () => routes.remove(nodeId);
}

/**
 * The config node `nodeId`'s workspace has a Cloud API number: served at `<prefix>/cloud-api` once open
 * (`workspace`), told to come again while it opens (undefined). Returns the function that forgets it.
 */
export function hostCloudApi(nodeId: string, workspace: Workspace | undefined): () => void {
  cloudApiHosts.set(nodeId, workspace);
  return () => {
    if (cloudApiHosts.get(nodeId) === workspace) cloudApiHosts.delete(nodeId);
  };
}

/** Meta's calls for the Cloud API numbers of this instance's workspaces (see serveCloudApiCall). */
async function serveCloudApi(req: Request, res: Response, query: string, log: (warning: string) => void): Promise<void> {
  let body: Buffer | string;
  try {
    body = await rawBody(req, CLOUD_API_MAX_BODY_BYTES);
  } catch {
    res.destroy();
    return;
  }
  const open = [...cloudApiHosts.values()].filter((workspace): workspace is Workspace => workspace !== undefined);
  const pending = [...cloudApiHosts.values()].some((workspace) => workspace === undefined);
  const answer = await serveCloudApiCall(open, { method: req.method, query, body, signature: req.headers['x-hub-signature-256'] }, pending);
  if (answer.warning) log(answer.warning);
  if (res.headersSent || res.destroyed) return;
  res.status(answer.status).set(answer.headers).send(answer.body);
}

async function serve(req: Request, res: Response, via: string, log: (warning: string) => void): Promise<void> {
  const cloudApiQuery = cloudApiQueryOf(req.url.replace(/^\//, ''));
  if (cloudApiQuery !== undefined) return serveCloudApi(req, res, cloudApiQuery, log);
  let body: Buffer | string;
  try {
    body = await rawBody(req);
  } catch {
    // The client went away before its body was complete: there is nobody to answer.
    res.destroy();
    return;
  }
  const outcome = await routes.handle({
    method: req.method,
    contentType: req.headers['content-type'],
    body,
    token: tokenFromPath(req.url.replace(/^\//, '')),
    remoteAddress: req.ip ?? req.socket.remoteAddress ?? null,
    via,
  });
  if (res.headersSent || res.destroyed) return;
  // A body cut at the limit was not read to its end: close the connection rather than read the rest.
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) res.set('Connection', 'close');
  res.status(outcome.answer.status).set(outcome.answer.headers).json(outcome.answer.body);
}

/**
 * The body exactly as sent. If a middleware (httpNodeMiddleware) already parsed it, its result is used
 * instead: re-serialised JSON, or the text it kept.
 */
async function rawBody(req: Request, limit = MAX_BODY_BYTES): Promise<Buffer | string> {
  const stream = req as IncomingMessage;
  if (!stream.readableEnded) return readBody(stream, limit);
  const parsed: unknown = (req as { body?: unknown }).body;
  if (Buffer.isBuffer(parsed) || typeof parsed === 'string') return parsed;
  return parsed === undefined ? '' : JSON.stringify(parsed);
}
