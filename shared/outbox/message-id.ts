import { randomBytes } from 'node:crypto';

/**
 * A WhatsApp Web style message id ("3EB0" + 18 upper-case hex digits, 22 characters), generated at
 * acceptance. The message is sent with this id, so the id in the webhook's answer is the id on the phone
 * and a resend after a crash is deduplicated by WhatsApp.
 *
 * The first 11 hex digits are the time in milliseconds and the last 7 are random: ids then arrive in
 * increasing order, so the outbox's unique index on them grows at one edge instead of touching a random
 * page per message (measured: it halves the cost of queueing a batch), while 28 random bits keep ids
 * made in the same millisecond apart.
 */
export function newMessageId(now: number = Date.now(), random: (size: number) => Buffer = pooledRandomBytes): string {
  const time = Math.floor(now).toString(16).padStart(11, '0').slice(-11);
  const noise = random(4).toString('hex').slice(0, 7);
  return `3EB0${time}${noise}`.toUpperCase();
}

/**
 * Secure random bytes served from a pool refilled 4 KiB at a time: one randomBytes call per message
 * id cost more than the rest of building the message (profiled on the webhook's accept path).
 */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

export function pooledRandomBytes(size: number): Buffer {
  if (offset + size > pool.length) {
    pool = randomBytes(Math.max(POOL_SIZE, size));
    offset = 0;
  }
  offset += size;
  // A copy, so a caller can never see bytes that a later call also gets.
  return Buffer.from(pool.subarray(offset - size, offset));
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
