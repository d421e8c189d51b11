import Ajv, { type ValidateFunction } from 'ajv';
import { normalizeJid } from './jid';
import { isHttpUrl, normalizeChatId, normalizeFileName } from './normalize';
import { normalizePhone } from './phone';

/** The request as the schema lets it through: each field's type and shape checked, cross-field rules not yet. */
export interface SendPayload {
  readonly action: 'send';
  readonly text: string;
  // null is allowed wherever a field is optional: many CRMs send null for an empty field.
  readonly file_url?: string | null;
  readonly file_name?: string | null;
  readonly chat_id?: string | number | null;
  readonly jid?: string | null;
  readonly phone?: string | number | null;
  readonly chat_name?: string | null;
  readonly whatsapp_account_phone?: string | number | null;
  readonly 'whatsapp account phone'?: string | number | null;
  readonly quoted_message_id?: string | null;
  readonly [extra: string]: unknown;
}

// E.164 bounds for a phone sent as a JSON integer: 7 to 15 digits (an integer cannot start with 0).
const phoneSchema = {
  type: ['string', 'integer', 'null'],
  format: 'phone',
  minimum: 1_000_000,
  maximum: 999_999_999_999_999,
} as const;

/**
 * Each field is checked on its own, in the order errors should be reported. Recipients are deliberately
 * not a oneOf: that reports every branch's failure for one bad field. Extra properties are allowed and
 * left in place; the caller lists them as ignored.
 */
const SEND_SCHEMA = {
  type: 'object',
  required: ['action', 'text'],
  properties: {
    action: { const: 'send' },
    text: { type: 'string' },
    file_url: { type: ['string', 'null'], format: 'http-url' },
    file_name: { type: ['string', 'null'], format: 'file-name' },
    chat_id: { type: ['string', 'integer', 'null'], format: 'chat-id', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    jid: { type: ['string', 'null'], format: 'jid' },
    phone: phoneSchema,
    chat_name: { type: ['string', 'null'], pattern: '\\S' },
    whatsapp_account_phone: phoneSchema,
    // The seed's own example spells the key with spaces.
    'whatsapp account phone': phoneSchema,
    // A received message's WhatsApp id (whatsapp-in / WhatsApp Trigger `id`), to reply in thread.
    quoted_message_id: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_:.-]{1,128}$' },
  },
} as const;

export type KnownField = keyof typeof SEND_SCHEMA.properties;

export const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.keys(SEND_SCHEMA.properties));

// Shapes live in the normalisers, so the schema accepts exactly what they can normalise.
const FORMATS = {
  'http-url': isHttpUrl,
  'file-name': (value: string) => normalizeFileName(value) !== undefined,
  'chat-id': (value: string) => normalizeChatId(value) !== undefined,
  jid: (value: string) => normalizeJid(value) !== undefined,
  phone: (value: string) => normalizePhone(value).ok,
};

let compiled: ValidateFunction<SendPayload> | undefined;

/** The compiled validator; compiled on first use and kept for the life of the process. */
export function sendPayloadValidator(): ValidateFunction<SendPayload> {
  compiled ??= new Ajv({ allErrors: false, verbose: true, allowUnionTypes: true, formats: FORMATS }).compile<SendPayload>(
    SEND_SCHEMA,
  );
  return compiled;
}
