import { randomBytes } from 'node:crypto';

/**
 * A WhatsApp Web style message id ("3EB0" + 18 upper-case hex digits, 22 characters), generated at
 * acceptance. The message is sent with this id, so the id in the webhook's answer is the id on the phone
 * and a resend after a crash is deduplicated by WhatsApp.
 */
export function newMessageId(random: (size: number) => Buffer = randomBytes): string {
  return '3EB0' + random(9).toString('hex').toUpperCase();
}

export const MESSAGE_ID_PREFIX = 'wa_backend:';

/** The `message_id` the webhook answers with. */
export function externalMessageId(id: string): string {
  return MESSAGE_ID_PREFIX + id;
}

/** Accepts either form ("wa_backend:3EB0…" or "3EB0…") and returns the bare WhatsApp id. */
export function internalMessageId(messageId: string): string {
  return messageId.startsWith(MESSAGE_ID_PREFIX) ? messageId.slice(MESSAGE_ID_PREFIX.length) : messageId;
}
