import type { Request, Response } from 'express';
import type { WebhookAnswer, WebhookCall } from '../../../shared';

type N8nRequest = Request & { rawBody?: Buffer; readRawBody?: () => Promise<void> };

/**
 * The contract's view of n8n's request, with the exact bytes: n8n reads them into `rawBody` on demand
 * (the trigger asks n8n not to parse the body, see RAW_BODY_PARAMETER).
 */
export async function webhookCallFrom(req: N8nRequest, token: string): Promise<WebhookCall> {
  return {
    method: req.method,
    contentType: req.headers['content-type'],
    body: await rawBodyOf(req),
    token,
    remoteAddress: req.ip ?? req.socket?.remoteAddress ?? null,
  };
}

/** The body's exact bytes, which n8n reads into `rawBody` on demand; else what a middleware parsed, re-serialised. */
export async function rawBodyOf(req: N8nRequest): Promise<Buffer | string | undefined> {
  if (!req.rawBody && req.readRawBody) await req.readRawBody();
  const raw = req.rawBody;
  const parsed: unknown = req.body;
  return Buffer.isBuffer(raw) ? raw : typeof parsed === 'string' ? parsed : parsed === undefined ? undefined : JSON.stringify(parsed);
}

/** Writes the contract's answer (n8n's own responses differ in status and body). */
export function writeAnswer(res: Response, answer: WebhookAnswer): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.json(answer.body);
}
