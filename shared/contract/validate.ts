import { fail, ok, reject, type Result } from '../rejection';
import { normalizeJid } from './jid';
import {
  ACCOUNT_PHONES_DISAGREE,
  FILE_NAME_REQUIRED,
  FILE_NAME_WITHOUT_URL,
  FILE_URL_AND_ATTACHMENT,
  RECIPIENT_REQUIRED,
  TEXT_EMPTY,
  badField,
  fileNameTooLong,
  textTooLong,
  rejectionForSchemaError,
} from './messages';
import { fileNameBytes, WHATSAPP_LIMITS } from './limits';
import { normalizeChatId, normalizeFileName } from './normalize';
import { normalizePhone } from './phone';
import { KNOWN_FIELDS, sendPayloadValidator, type SendPayload } from './schema';
import { RECIPIENT_FIELDS, type RecipientField, type RecipientRef, type SendRequest } from './types';

const ACCOUNT_FIELDS = ['whatsapp_account_phone', 'whatsapp account phone'] as const;

/** An engine's file attached to a send (its bytes travel beside the request, not in the JSON). */
export interface AttachedFile {
  readonly name: string;
}

/**
 * Validates and normalises an already-parsed "send" request (a JSON body, or a Send node's input). With
 * `attached`, the request carries a file of its own: text may then be empty, and `file_url` must be absent.
 */
export function validateSendPayload(payload: unknown, attached?: AttachedFile): Result<SendRequest> {
  const validate = sendPayloadValidator();
  if (!validate(payload)) {
    // ajv sets at least one error whenever validation fails; allErrors is off, so there is exactly one.
    return fail(rejectionForSchemaError(validate.errors![0]!));
  }
  return applyRules(payload, attached);
}

/** The cross-field rules, on a payload whose fields each have the right type and shape. */
function applyRules(payload: SendPayload, attached: AttachedFile | undefined): Result<SendRequest> {
  const file = fileOf(payload, attached);
  if (!file.ok) return file;
  const blankText = payload.text.trim() === '';
  if (blankText && file.value === undefined) return fail(badField('text', TEXT_EMPTY));
  // A blank text beside a file is not sent, so only a text that goes out is held to WhatsApp's limit.
  if (!blankText && payload.text.length > WHATSAPP_LIMITS.textLength) return fail(badField('text', textTooLong(payload.text.length)));

  const recipientFields = RECIPIENT_FIELDS.filter((field) => isPresent(payload[field]));
  const [chosen, ...unused] = recipientFields;
  // Several fields could fix this, so the rejection names none.
  if (chosen === undefined) return fail(reject(400, RECIPIENT_REQUIRED));

  const account = accountPhone(payload);
  if (!account.ok) return account;

  return ok({
    // Whitespace alone beside a file would go out as a blank message and cost a second unit.
    text: blankText ? '' : payload.text,
    ...(file.value !== undefined ? { file: file.value } : {}),
    recipient: recipient(chosen, payload),
    ...(account.value !== undefined ? { accountPhone: account.value } : {}),
    ...(isPresent(payload.quoted_message_id) ? { quotedMessageId: payload.quoted_message_id as string } : {}),
    unusedRecipientFields: unused,
    ignoredFields: Object.keys(payload).filter((key) => !KNOWN_FIELDS.has(key)),
  });
}

/** The request's file: from `file_url` + `file_name`, or attached by the engine (named by `file_name` if given). */
function fileOf(payload: SendPayload, attached: AttachedFile | undefined): Result<SendRequest['file']> {
  const fileUrl = payload.file_url ?? undefined;
  const fileName = payload.file_name ?? undefined;
  if (attached) {
    if (fileUrl !== undefined) return fail(badField('file_url', FILE_URL_AND_ATTACHMENT));
    const name = normalized(normalizeFileName(fileName ?? attached.name));
    return withinNameLimit(name, () => ({ attached: true, name }));
  }
  if (fileName !== undefined && fileUrl === undefined) return fail(badField('file_name', FILE_NAME_WITHOUT_URL));
  if (fileUrl !== undefined && fileName === undefined) return fail(badField('file_name', FILE_NAME_REQUIRED));
  if (fileUrl === undefined) return ok(undefined);
  const name = normalized(normalizeFileName(fileName!));
  return withinNameLimit(name, () => ({ url: fileUrl.trim(), name }));
}

/** The file, when its (normalised) name is within the limit; the name is what the recipient sees. */
function withinNameLimit(name: string, file: () => NonNullable<SendRequest['file']>): Result<SendRequest['file']> {
  const bytes = fileNameBytes(name);
  return bytes > WHATSAPP_LIMITS.fileNameBytes ? fail(badField('file_name', fileNameTooLong(bytes))) : ok(file());
}

/** null counts as absent: many CRMs send null for a field they have no value for. */
function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function recipient(field: RecipientField, payload: SendPayload): RecipientRef {
  switch (field) {
    case 'chat_id':
      return { field, value: normalized(normalizeChatId(payload.chat_id)) };
    case 'jid':
      return { field, value: normalized(normalizeJid(payload.jid!)) };
    case 'phone':
      return { field, value: phoneDigits(payload.phone) };
    case 'chat_name':
      return { field, value: payload.chat_name! };
  }
}

/** The account to send from, in either spelling; both spellings must then name the same number. */
function accountPhone(payload: SendPayload): Result<string | undefined> {
  const numbers = ACCOUNT_FIELDS.filter((field) => isPresent(payload[field])).map((field) =>
    phoneDigits(payload[field]),
  );
  if (numbers.length === 2 && numbers[0] !== numbers[1]) {
    return fail(badField(ACCOUNT_FIELDS[0], ACCOUNT_PHONES_DISAGREE));
  }
  return ok(numbers[0]);
}

function phoneDigits(value: unknown): string {
  const result = normalizePhone(value);
  return normalized(result.ok ? result.digits : undefined);
}

/** The schema's formats use these same normalisers, so a value that passed it always normalises. */
function normalized(value: string | undefined): string {
  if (value === undefined) throw new Error('contract: the schema accepted a value its normaliser refuses');
  return value;
}
