import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errorBodyFor, INTERNAL_ERROR_SENTENCE } from '../contract/responses';
import { reject, type Rejection } from '../rejection';
import { answer, MAX_BODY_BYTES, serveWebhookCall, type WebhookAnswer } from './webhook';
import type { Workspace } from '../workspace/workspace';
import { readBody } from './read-body';
import { CLOUD_API_MAX_BODY_BYTES, cloudApiQueryOf, serveCloudApiCall } from './cloud-api-webhook';
import { tokenFromPath } from './token-path';
import { checkScrape, metricsEndpointOf, presentedScrapeToken, ScrapeToken, serveMetricsEndpoint, type EndpointAnswer } from '../hosting/metrics-endpoints';

/** The path prefix of the webhook URL; the token follows it. */
export const WEBHOOK_PATH_PREFIX = '/whatsapp/';

/**
 * Limits that keep slow and idle clients from holding the server: headers must arrive within 10 s and
 * the whole request within 30 s (Node answers the rest through clientError, below), and an idle
 * keep-alive connection is closed after 5 s.
 */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export interface WebhookServerOptions {
  /** Tags what this server accepts in the workspace's feed (see WebhookCall.via); flows read it from there. */
  readonly via?: string;
  /**
   * The workspace's scrape token (its metricsToken setting): `/metrics` and `/healthz` then need it as
   * `Authorization: Bearer <token>` (or `?token=`); without one they answer callers on this machine only.
   */
  readonly metricsToken?: string;
}

/**
 * A bare node:http server for the webhook, outside any engine's HTTP pipeline: the CLI's `serve`, the
 * crash test and benchmarks, and n8n's trigger on a dedicated port. Serves `POST /whatsapp/<token>`, and
 * `GET /metrics` (Prometheus) and `GET /healthz` for whoever options.metricsToken lets in (see checkScrape).
 * Whatever a client sends, it answers with the contract's JSON (or closes a connection that is gone)
 * and never throws out of a handler.
 */
export function createWebhookServer(workspace: Workspace, options: WebhookServerOptions = {}): Server {
  const scrapeToken = options.metricsToken === undefined || options.metricsToken === '' ? undefined : new ScrapeToken(options.metricsToken);
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    serveRequest(workspace, request, response, options, scrapeToken).catch((error: unknown) => {
      workspace.reportError(error);
      send(response, { status: 500, headers: {}, body: errorBodyFor(500, INTERNAL_ERROR_SENTENCE) });
    });
  };
  const server = createServer(
    {
      // The contract answers a request without Host like any other (Node's default is an empty 400).
      requireHostHeader: false,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Node checks the timeouts above this often (default 30 s, which would let a slow client hold on for a minute).
      connectionsCheckingInterval: 1_000,
    },
    handle,
  );
  // An Expect other than 100-continue would get Node's empty 417: the contract decides instead.
  server.on('checkExpectation', handle);
  server.on('connect', (_request: IncomingMessage, socket: Socket) => answerRaw(socket, answer(reject(405, 'Method CONNECT is not allowed: send the request with POST.'), { Allow: 'POST' })));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  return server;
}

async function serveRequest(workspace: Workspace, request: IncomingMessage, response: ServerResponse, options: WebhookServerOptions, scrapeToken: ScrapeToken | undefined): Promise<void> {
  const url = request.url ?? '/';
  const endpoint = metricsEndpointOf(url);
  if (endpoint) {
    // Nothing of a body is read here: it is discarded.
    request.resume();
    const refused = checkScrape(scrapeToken, presentedScrapeToken(request.headers.authorization, url), request.socket.remoteAddress);
    sendEndpoint(response, refused ?? (await serveMetricsEndpoint(workspace, endpoint, request.method ?? 'GET')));
    return;
  }
  if (!url.startsWith(WEBHOOK_PATH_PREFIX)) {
    request.resume();
    send(response, answer(reject(404, 'Webhook not found')));
    return;
  }
  const cloudApiQuery = cloudApiQueryOf(url.slice(WEBHOOK_PATH_PREFIX.length));
  if (cloudApiQuery !== undefined) {
    await serveCloudApi(workspace, request, response, cloudApiQuery);
    return;
  }
  const token = tokenFromPath(url.slice(WEBHOOK_PATH_PREFIX.length));
  let body: Buffer;
  try {
    body = await readBody(request, MAX_BODY_BYTES);
  } catch {
    // The client went away before its body was complete: there is nobody to answer.
    response.destroy();
    return;
  }
  const { answer: reply } = await serveWebhookCall(workspace, {
    method: request.method ?? 'GET',
    contentType: request.headers['content-type'],
    body,
    token,
    remoteAddress: request.socket.remoteAddress ?? null,
    ...(options.via === undefined ? {} : { via: options.via }),
  });
  // A body cut at the limit was not read to its end: close the connection rather than read the rest.
  send(response, reply, body.length > MAX_BODY_BYTES);
}

/** Meta's webhook for the workspace's Cloud API number (see cloud-api-webhook.ts). */
async function serveCloudApi(workspace: Workspace, request: IncomingMessage, response: ServerResponse, query: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(request, CLOUD_API_MAX_BODY_BYTES);
  } catch {
    response.destroy();
    return;
  }
  const reply = await serveCloudApiCall([workspace], { method: request.method, query, body, signature: request.headers['x-hub-signature-256'] });
  if (reply.warning) workspace.reportError(new Error(`WhatsApp Cloud API webhook: ${reply.warning}`));
  if (response.headersSent || response.destroyed) return;
  response.writeHead(reply.status, reply.headers);
  response.end(reply.body);
}

function sendEndpoint(response: ServerResponse, reply: EndpointAnswer): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(reply.status, reply.headers);
  response.end(reply.body);
}

function send(response: ServerResponse, reply: WebhookAnswer, close = false): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(reply.status, { ...reply.headers, 'content-type': 'application/json; charset=utf-8', ...(close ? { connection: 'close' } : {}) });
  response.end(JSON.stringify(reply.body));
}

/**
 * What Node's HTTP parser refuses before any handler runs (a malformed request line or header, headers
 * too large, a request too slow to arrive) still gets the contract's JSON body, then the connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const pending = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  answerRaw(socket, answer(clientErrorRejection(error)));
}

/** Writes an answer straight to a socket Node's HTTP layer has given up on, then closes it. */
function answerRaw(socket: Socket, reply: WebhookAnswer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(reply.body);
  const headers = Object.entries(reply.headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}\r\n${headers}` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function clientErrorRejection(error: NodeJS.ErrnoException): Rejection {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return reject(408, `The request did not arrive within ${REQUEST_TIMEOUT_MS / 1000} seconds; send it again in one go.`);
    case 'HPE_HEADER_OVERFLOW':
      return reject(400, 'The request headers are too large; send the webhook call with ordinary headers.');
    default:
      return reject(400, 'The request is not valid HTTP; send a POST with a JSON body to the webhook URL.');
  }
}
