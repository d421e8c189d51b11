import type { IncomingKind, IncomingMedia, IncomingMessage, StatusUpdate } from '../types';
import { webhookErrorReason, type GraphWebhookError } from './errors';

/** What a verified webhook POST tells one business number: receipts of our sends, messages that arrived. */
export interface WebhookEvents {
  readonly statuses: StatusUpdate[];
  readonly messages: IncomingMessage[];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const number = (value: unknown): number | null => {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(parsed) ? parsed : null;
};

/** The furthest a Date reaches either side of 1970, in milliseconds (ECMAScript's time value range). */
const MAX_DATE_MS = 8.64e15;

/**
 * `timestamp` (seconds since 1970) in whole milliseconds (the stores keep an integer), when a Date can
 * hold it; else null.
 */
const millisecondsOf = (timestamp: unknown): number | null => {
  const seconds = number(timestamp);
  return seconds !== null && Math.abs(seconds * 1000) <= MAX_DATE_MS ? Math.round(seconds * 1000) : null;
};

/** `<digits>@s.whatsapp.net`, the JID the rest of the core names a person by. */
export const jidOfDigits = (digits: string): string => `${digits.replace(/\D/g, '')}@s.whatsapp.net`;

/**
 * A verified POST body (already JSON-parsed) as receipts and incoming messages. Only changes for
 * `phoneNumberId` are read when it is given (one app may serve several numbers). The Cloud API's `sent`
 * status adds nothing: a message is recorded sent when the API took it.
 */
export function webhookEvents(body: unknown, phoneNumberId?: string, now: () => number = Date.now): WebhookEvents {
  const statuses: StatusUpdate[] = [];
  const messages: IncomingMessage[] = [];
  if (!isObject(body)) return { statuses, messages };
  for (const entry of list(body['entry'])) {
    if (!isObject(entry)) continue;
    for (const change of list(entry['changes'])) {
      if (!isObject(change) || !isObject(change['value'])) continue;
      if (change['field'] !== undefined && change['field'] !== 'messages') continue;
      const value = change['value'];
      const metadata = isObject(value['metadata']) ? value['metadata'] : {};
      if (phoneNumberId !== undefined && metadata['phone_number_id'] !== undefined && String(metadata['phone_number_id']) !== phoneNumberId) continue;
      for (const status of list(value['statuses'])) {
        const update = statusUpdate(status);
        if (update) statuses.push(update);
      }
      const names = new Map<string, string>();
      for (const contact of list(value['contacts'])) {
        if (!isObject(contact)) continue;
        const waId = text(contact['wa_id']);
        const name = isObject(contact['profile']) ? text(contact['profile']['name']) : null;
        if (waId && name) names.set(waId, name);
      }
      for (const message of list(value['messages'])) {
        const incoming = incomingMessage(message, names, now);
        if (incoming) messages.push(incoming);
      }
    }
  }
  return { statuses, messages };
}

function statusUpdate(status: unknown): StatusUpdate | null {
  if (!isObject(status)) return null;
  const messageId = text(status['id']);
  if (!messageId) return null;
  switch (status['status']) {
    case 'delivered':
      return { messageId, status: 'delivered' };
    case 'read':
      return { messageId, status: 'read' };
    case 'failed':
      return { messageId, status: 'failed', reason: webhookErrorReason(list(status['errors']).filter(isObject) as GraphWebhookError[]) };
    default:
      return null;
  }
}

const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'document', 'sticker']);

function incomingMessage(message: unknown, names: ReadonlyMap<string, string>, now: () => number): IncomingMessage | null {
  if (!isObject(message)) return null;
  const id = text(message['id']);
  const from = text(message['from']);
  if (!id || !from) return null;
  const type = text(message['type']) ?? 'unknown';
  const jid = jidOfDigits(from);
  // A timestamp no Date can hold (1e306), or a fraction of a millisecond (PostgreSQL's bigint refuses it),
  // would fail every write of the message, and of those after it.
  const at = millisecondsOf(message['timestamp']);
  const context = isObject(message['context']) ? message['context'] : null;
  const quotedId = context ? text(context['id']) : null;
  let kind: IncomingKind = 'other';
  let body: string | null = null;
  let media: IncomingMedia | null = null;
  let location: IncomingMessage['location'] = null;
  let contacts: IncomingMessage['contacts'] = null;
  let reaction: IncomingMessage['reaction'] = null;
  const part = isObject(message[type]) ? (message[type] as Json) : {};
  if (type === 'text') {
    kind = 'text';
    body = text(part['body']);
  } else if (MEDIA_TYPES.has(type)) {
    kind = type === 'audio' && part['voice'] === true ? 'voice' : (type as IncomingKind);
    body = text(part['caption']);
    media = { mimetype: text(part['mime_type']), size: number(part['file_size']), fileName: text(part['filename']), seconds: null };
  } else if (type === 'location') {
    const latitude = number(part['latitude']);
    const longitude = number(part['longitude']);
    if (latitude !== null && longitude !== null) {
      kind = 'location';
      location = { latitude, longitude, name: text(part['name']), address: text(part['address']) };
    }
  } else if (type === 'contacts') {
    kind = 'contact';
    contacts = list(message['contacts']).filter(isObject).map((contact) => ({
      displayName: isObject(contact['name']) ? text(contact['name']['formatted_name']) : null,
      vcard: null,
    }));
  } else if (type === 'reaction') {
    const targetId = text(part['message_id']);
    if (targetId) {
      kind = 'reaction';
      reaction = { emoji: text(part['emoji']) ?? '', targetId };
    }
  } else if (type === 'interactive') {
    kind = 'text';
    const reply = isObject(part['button_reply']) ? part['button_reply'] : isObject(part['list_reply']) ? part['list_reply'] : {};
    body = text(reply['title']) ?? text(reply['id']);
  } else if (type === 'button') {
    kind = 'text';
    body = text(part['text']) ?? text(part['payload']);
  }
  return {
    id,
    chatJid: jid,
    isGroup: false,
    sender: { jid, phone: from.replace(/\D/g, ''), lid: null, pushName: names.get(from) ?? null },
    fromMe: false,
    at: at ?? now(),
    kind,
    text: body,
    quoted: quotedId ? { id: quotedId, text: null, senderJid: context && text(context['from']) ? jidOfDigits(text(context['from'])!) : null } : null,
    mentions: [],
    media,
    reaction,
    targetId: null,
    location,
    contacts,
    poll: null,
    raw: message,
  };
}
