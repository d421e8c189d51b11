import { createServer, type Server } from 'node:http';
import { handleWebhookCall, MAX_BODY_BYTES } from '../webhook';
import type { Workspace } from '../workspace';
import { readBody } from './read-body';

/** The path prefix of the webhook URL; the token follows it. */
export const WEBHOOK_PATH_PREFIX = '/whatsapp/';

/**
 * A bare node:http server for the webhook, without n8n or Node-RED: used by the crash test and the
 * benchmarks, and by anyone who wants the webhook alone. Serves `POST /whatsapp/<token>`.
 */
export function createWebhookServer(workspace: Workspace): Server {
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
        handleWebhookCall(workspace, {
          method: request.method ?? 'GET',
          contentType: request.headers['content-type'],
          body,
          token,
          remoteAddress: request.socket.remoteAddress ?? null,
        }),
      )
      .then((answer) => {
        response.writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(answer.body));
      })
      .catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify({ status: 500, data: {}, message: `Internal error: ${String(error)}` }));
      });
  });
}
