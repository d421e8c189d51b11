import type { ErrorObject } from 'ajv';
import { reject, type Rejection } from '../rejection';
import { WHATSAPP_LIMITS } from './limits';
import { normalizePhone } from './phone';
import type { KnownField } from './schema';

/** Every sentence a client can get back from the contract, so the wording lives in one place. */

const EXAMPLE = '{"action": "send", "phone": "+14151231234", "text": "hello"}';
const PHONE_EXAMPLE = '"+14151231234"';

export const EMPTY_BODY = `The body is empty: send a JSON object such as ${EXAMPLE}.`;
export const BODY_NOT_UTF8 = 'The body is not valid UTF-8: send the JSON encoded as UTF-8.';
export const BODY_NOT_OBJECT = `The request body must be a JSON object such as ${EXAMPLE}.`;

export function invalidJson(problem: string, line: number, column: number): string {
  return `The body is not valid JSON: ${problem} at line ${line}, column ${column}.`;
}

export const ACTION_REQUIRED = 'Field "action" is required and must be "send".';
export const TEXT_REQUIRED = 'Field "text" is required; it may be empty only when "file_url" is given.';
export const TEXT_NOT_STRING = 'Field "text" must be a string.';
export const TEXT_EMPTY = 'Field "text" must not be empty unless "file_url" is given.';
export const FILE_URL_INVALID = 'Field "file_url" must be an http:// or https:// URL that downloads the file directly.';
export const FILE_NAME_REQUIRED = 'Field "file_name" is required when "file_url" is given.';
export const FILE_NAME_WITHOUT_URL =
  'Field "file_name" was given without "file_url"; add the file\'s URL or remove "file_name".';
export const FILE_URL_AND_ATTACHMENT =
  'Field "file_url" was given with an attached file; send either the URL or the attachment, not both.';
export const FILE_NAME_INVALID =
  'Field "file_name" must be a non-empty file name without "/" or "\\", such as "logo.png".';
export const RECIPIENT_REQUIRED = 'One recipient field is required: "chat_id", "jid", "phone" or "chat_name".';
export const CHAT_ID_INVALID =
  'Field "chat_id" must be a chat id made of digits, as a string or an integer, such as "77234".';
export const JID_INVALID =
  'Field "jid" must be a WhatsApp JID such as "14151231234@s.whatsapp.net" or "120363025246125486@g.us".';
export const QUOTED_MESSAGE_ID_INVALID =
  'Field "quoted_message_id" must be the id of a received message (payload.id of the WhatsApp trigger), up to 128 letters, digits and _ : . -.';
export const QUOTED_MESSAGE_UNKNOWN =
  'Field "quoted_message_id" names no received message of this workspace: it is unknown, or older than the retention window of received messages.';
export const QUOTED_MESSAGE_OTHER_ACCOUNT =
  'Field "quoted_message_id" names a message received by another account: a reply goes out from the account that received the message.';
export const CHAT_NAME_INVALID = 'Field "chat_name" must be a non-empty string with the chat\'s exact name.';
export const ACCOUNT_PHONES_DISAGREE =
  'Fields "whatsapp_account_phone" and "whatsapp account phone" disagree; send only one.';

/** `length` as the limit counts it (UTF-16 code units). */
export function textTooLong(length: number): string {
  return `Field "text" is ${length} characters long; WhatsApp accepts at most ${WHATSAPP_LIMITS.textLength} in one message.`;
}

/** `bytes`: the name's length in UTF-8. */
export function fileNameTooLong(bytes: number): string {
  return (
    `Field "file_name" is ${bytes} bytes long in UTF-8; a file name may be at most ${WHATSAPP_LIMITS.fileNameBytes} bytes, ` +
    "as the recipient's phone saves the file under it."
  );
}

export function actionNotSend(value: unknown): string {
  return `Field "action" must be "send"; got ${show(value)}.`;
}

/** The phone sentence for `field`, told apart by why the value is not a phone number. */
export function phoneInvalid(field: string, value: unknown): string {
  const result = normalizePhone(value);
  return !result.ok && result.reason === 'leading-zero'
    ? `Field "${field}" starts with 0: write it in international format with the country code first, such as ${PHONE_EXAMPLE}.`
    : `Field "${field}" must be a phone number in international format with its country code, such as ${PHONE_EXAMPLE}.`;
}

/** A 400 for one field. */
export function badField(field: string, message: string): Rejection {
  return reject(400, message, field);
}

/** Turns the schema's first error into the one sentence the client gets. */
export function rejectionForSchemaError(error: ErrorObject): Rejection {
  if (error.keyword === 'required') {
    // The schema requires only these two.
    const missing = (error.params as { missingProperty: 'action' | 'text' }).missingProperty;
    return badField(missing, missing === 'action' ? ACTION_REQUIRED : TEXT_REQUIRED);
  }
  // The schema only looks one level down, into known fields, none of whose names needs JSON-pointer escaping.
  if (error.instancePath === '') return reject(400, BODY_NOT_OBJECT);
  const field = error.instancePath.slice(1) as KnownField;
  return badField(field, fieldSentence(field, error.data));
}

function fieldSentence(field: KnownField, value: unknown): string {
  switch (field) {
    case 'action':
      return actionNotSend(value);
    case 'text':
      return value === null ? TEXT_REQUIRED : TEXT_NOT_STRING;
    case 'file_url':
      return FILE_URL_INVALID;
    case 'file_name':
      return FILE_NAME_INVALID;
    case 'chat_id':
      return CHAT_ID_INVALID;
    case 'jid':
      return JID_INVALID;
    case 'chat_name':
      return CHAT_NAME_INVALID;
    case 'quoted_message_id':
      return QUOTED_MESSAGE_ID_INVALID;
    case 'phone':
    case 'whatsapp_account_phone':
    case 'whatsapp account phone':
      return phoneInvalid(field, value);
  }
}

const SHOWN_LENGTH = 40;

/** The offending value as JSON, cut short so a pasted document does not flood the sentence. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}…` : value);
  }
  const json = JSON.stringify(value) ?? String(value);
  return json.length > SHOWN_LENGTH ? `${json.slice(0, SHOWN_LENGTH)}…` : json;
}
