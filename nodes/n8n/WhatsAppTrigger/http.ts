import type { Request, Response } from 'express';
import type { WebhookAnswer, WebhookCall } from '../../../shared';

type N8nRequest = Request & { rawBody?: Buffer; readRawBody?: () => Promise<void> };

/**
 * The contract's view of n8n's request, with the exact bytes: n8n reads them into `rawBody` on demand
 * (the trigger asks n8n not to parse the body, see RAW_BODY_PARAMETER).
 */
export async function webhookCallFrom(req: N8nRequest, token: string): Promise<WebhookCall> {
  if (!req.rawBody && req.readRawBody) await req.readRawBody();
  const raw = req.rawBody;
  const parsed: unknown = req.body;
  const body = Buffer.isBuffer(raw) ? raw : typeof parsed === 'string' ? parsed : parsed === undefined ? undefined : JSON.stringify(parsed);
  return {
    method: req.method,
    contentType: req.headers['content-type'],
    body,
    token,
    remoteAddress: req.ip ?? req.socket?.remoteAddress ?? null,
  };
}

/** Writes the contract's answer (n8n's own responses differ in status and body). */
export function writeAnswer(res: Response, answer: WebhookAnswer): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.json(answer.body);
}
