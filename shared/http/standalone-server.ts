import { createServer, type Server } from 'node:http';
import { MAX_BODY_BYTES, serveWebhookCall, type WebhookOutcome } from '../webhook';
import type { Workspace } from '../workspace';
import { readBody } from './read-body';

/** The path prefix of the webhook URL; the token follows it. */
export const WEBHOOK_PATH_PREFIX = '/whatsapp/';

export interface WebhookServerOptions {
  /** Called after the 200 is written, with what was accepted (an engine emits it to its flows). */
  readonly onAccepted?: (accepted: NonNullable<WebhookOutcome['accepted']>) => void;
}

/**
 * A bare node:http server for the webhook, outside any engine's HTTP pipeline: the CLI's `serve`, the
 * crash test and benchmarks, and n8n's trigger on a dedicated port. Serves `POST /whatsapp/<token>`.
 */
export function createWebhookServer(workspace: Workspace, options: WebhookServerOptions = {}): Server {
  return createServer((request, response) => {
    const url = request.url ?? '/';
    if (!url.startsWith(WEBHOOK_PATH_PREFIX)) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 404, data: {}, message: 'Webhook not found' }));
      return;
    }
    const token = decodeURIComponent(url.slice(WEBHOOK_PATH_PREFIX.length).split('?')[0]!);
    readBody(request, MAX_BODY_BYTES)
      .then((body) =>
        serveWebhookCall(workspace, {
          method: request.method ?? 'GET',
          contentType: request.headers['content-type'],
          body,
          token,
          remoteAddress: request.socket.remoteAddress ?? null,
        }),
      )
      .then(({ answer, accepted }) => {
        response.writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(answer.body));
        if (accepted) options.onAccepted?.(accepted);
      })
      .catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify({ status: 500, data: {}, message: `Internal error: ${String(error)}` }));
      });
  });
}
