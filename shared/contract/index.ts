import type { Result } from '../rejection';
import { parseJsonBody } from './parse-json';
import type { SendRequest } from './types';
import { validateSendPayload } from './validate';

/** Reads a raw webhook body into a validated, normalised "send" request, or the 400 that explains why not. */
export function parseSendRequest(body: Buffer | string): Result<SendRequest> {
  const parsed = parseJsonBody(body);
  return parsed.ok ? validateSendPayload(parsed.value) : parsed;
}

export { parseJsonBody } from './parse-json';
export { validateSendPayload } from './validate';
export { WHATSAPP_LIMITS } from './limits';
export { normalizePhone, type PhoneResult } from './phone';
export { normalizeJid } from './jid';
export { normalizeChatId, isHttpUrl, normalizeFileName } from './normalize';
export { RECIPIENT_FIELDS, type RecipientField, type RecipientRef, type SendRequest } from './types';
