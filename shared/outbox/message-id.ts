import { randomBytes } from 'node:crypto';

/**
 * A WhatsApp Web style message id ("3EB0" + 18 upper-case hex digits, 22 characters), generated at
 * acceptance. The message is sent with this id, so the id in the webhook's answer is the id on the phone
 * and a resend after a crash is deduplicated by WhatsApp.
 *
 * The first 11 hex digits are the time in milliseconds and the last 7 a 28-bit counter: ids then arrive in
 * increasing order, so the outbox's unique index on them grows at one edge instead of touching a random
 * page per message (measured: it halves the cost of queueing a batch). The counter starts at a random
 * value in each new millisecond and counts up within it, so ids made in this process never repeat
 * (random digits alone collide: at ~17 ids per millisecond, about once in 30 million ids, and the
 * outbox's unique index then refuses the whole commit).
 */
export function newMessageId(now: number = Date.now(), random: (size: number) => Buffer = pooledRandomBytes): string {
  const time = Math.floor(now);
  // Wrapping would take 2^28 ids in one millisecond to reach the counter's start again.
  const counter = time === lastTime ? (lastCounter + 1) & 0xfffffff : random(4).readUInt32BE(0) >>> 4;
  lastTime = time;
  lastCounter = counter;
  return `3EB0${time.toString(16).padStart(11, '0').slice(-11)}${counter.toString(16).padStart(7, '0')}`.toUpperCase();
}

/** The millisecond and counter of the newest id this process made. */
let lastTime = -1;
let lastCounter = 0;

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
