/**
 * The contract's form of a message id: `wa_backend:` + the WhatsApp id the message is sent with, as
 * TimelinesAI answers it.
 */
export const MESSAGE_ID_PREFIX = 'wa_backend:';

/** The `message_id` the webhook answers with. */
export function externalMessageId(id: string): string {
  return MESSAGE_ID_PREFIX + id;
}

/** Accepts either form ("wa_backend:3EB0…" or "3EB0…") and returns the bare WhatsApp id. */
export function internalMessageId(messageId: string): string {
  return messageId.startsWith(MESSAGE_ID_PREFIX) ? messageId.slice(MESSAGE_ID_PREFIX.length) : messageId;
}
