import type { SendNodeDef } from './types';

/** Editor field → contract field. */
const FIELDS: readonly (readonly [keyof SendNodeDef, string])[] = [
  ['chatId', 'chat_id'],
  ['jid', 'jid'],
  ['phone', 'phone'],
  ['chatName', 'chat_name'],
  ['accountPhone', 'whatsapp_account_phone'],
  ['text', 'text'],
  ['fileUrl', 'file_url'],
  ['fileName', 'file_name'],
];

/**
 * The request a Send node makes from its input: `msg.payload` in the webhook's JSON shape (so a webhook
 * payload can be forwarded unchanged), with the fields set in the editor filling what it leaves out.
 * A string payload is the text. `action` defaults to "send".
 */
export function sendPayloadFrom(def: SendNodeDef, payload: unknown, hasAttachment = false): Record<string, unknown> {
  const given: Record<string, unknown> =
    typeof payload === 'string' ? { text: payload } : isObject(payload) ? { ...payload } : {};
  // With an attached file the text is optional, as with file_url.
  const merged: Record<string, unknown> = hasAttachment ? { action: 'send', text: '' } : { action: 'send' };
  for (const [editorField, field] of FIELDS) {
    const value = def[editorField];
    if (typeof value === 'string' && value.trim() !== '') merged[field] = value;
  }
  // A recipient in the message replaces the editor's recipient rather than competing with it.
  if (['chat_id', 'jid', 'phone', 'chat_name'].some((field) => given[field] != null)) {
    for (const field of ['chat_id', 'jid', 'phone', 'chat_name']) delete merged[field];
  }
  return { ...merged, ...given };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** A file in the message: `msg.attachment` (a Buffer, or `{ data, filename, mimetype }`) or a Buffer payload. */
export interface MessageAttachment {
  readonly data: Buffer;
  readonly name: string;
  readonly mimetype?: string;
}

export function attachmentFrom(msg: { payload?: unknown; attachment?: unknown; filename?: unknown }): MessageAttachment | undefined {
  const fallbackName = typeof msg.filename === 'string' && msg.filename.trim() !== '' ? msg.filename.trim() : 'file';
  const given = msg.attachment ?? (Buffer.isBuffer(msg.payload) ? msg.payload : undefined);
  if (Buffer.isBuffer(given)) return { data: given, name: fallbackName };
  if (isObject(given) && Buffer.isBuffer(given.data)) {
    return {
      data: given.data,
      name: typeof given.filename === 'string' && given.filename.trim() !== '' ? given.filename.trim() : fallbackName,
      ...(typeof given.mimetype === 'string' ? { mimetype: given.mimetype } : {}),
    };
  }
  return undefined;
}
