import type { SendRequest } from '../contract/types';
import { newMessageId } from '../outbox/message-id';
import type { NewMessage } from '../store/types';
import type { AcceptOrigin } from './acceptance';

/** Where a request's messages go: the account that sends them, and the chat when it is known. */
export interface MessageTarget {
  readonly accountId: string;
  readonly jid: string | null;
  /** The received message the request replies to (quoted_message_id), quoted by its first part. */
  readonly quotedId?: string | null;
}

/**
 * A request's parts with their ids, text then file (one WhatsApp message each); the first part's id is
 * the request's. With an origin, the first part also carries the request for the feed.
 */
export function buildMessages(
  request: SendRequest,
  target: MessageTarget,
  now: number,
  randomBytes: (size: number) => Buffer,
  origin: AcceptOrigin | undefined,
): NewMessage[] {
  const parts: NewMessage[] = [];
  const base = { accountId: target.accountId, recipient: request.recipient, jid: target.jid };
  const firstId = newMessageId(now, randomBytes);
  const quotedId = target.quotedId ?? null;
  // The text is stored once, in its own part; the feed keeps the rest of the request.
  const feed = origin ? JSON.stringify({ ...request, text: undefined, via: origin.via }) : null;
  if (request.text.length > 0) {
    parts.push({ ...base, id: firstId, requestId: firstId, part: 'text', text: request.text, fileUrl: null, fileName: null, feed, quotedId });
  }
  if (request.file) {
    const id = parts.length === 0 ? firstId : newMessageId(now, randomBytes);
    const first = parts.length === 0;
    parts.push({
      ...base,
      id,
      requestId: firstId,
      part: 'file',
      text: null,
      fileUrl: 'url' in request.file ? request.file.url : null,
      fileName: request.file.name,
      feed: first ? feed : null,
      quotedId: first ? quotedId : null,
    });
  }
  return parts;
}
