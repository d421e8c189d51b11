import type { ReceivedFilter } from '../inbound/filter';
import { fail, ok, reject, type Result } from '../rejection';
import type { IncomingKind } from '../transport/types';
import { flag, numberOr, optionalText, type RawSettings } from './setting-fields';

export const RECEIVED_KINDS: readonly IncomingKind[] = [
  'text',
  'image',
  'video',
  'audio',
  'voice',
  'document',
  'sticker',
  'location',
  'contact',
  'reaction',
  'poll',
  'edit',
  'delete',
  'other',
];

/** Media larger than this is not downloaded unless the trigger raises its limit. */
export const DEFAULT_MEDIA_LIMIT_MB = 16;

/** A received-messages trigger as its editor fields say (Node-RED's whatsapp-in, n8n's WhatsApp Trigger). */
export interface ReceivedTriggerSettings {
  readonly filter: ReceivedFilter;
  readonly markRead: boolean;
  readonly downloadMedia: boolean;
  readonly maxMediaBytes: number;
}

/**
 * Reads a trigger's fields: `accounts` and `chats` as comma- or newline-separated lists, `chatKinds`
 * (all, direct, groups), `types` (a list of message types), `includeOwn`, `markRead`, `downloadMedia`
 * and `maxMediaMB`. Every bad field is refused with a sentence naming it.
 */
export function parseReceivedTriggerSettings(raw: RawSettings): Result<ReceivedTriggerSettings> {
  const chatKinds = optionalText(raw, 'chatKinds') ?? 'all';
  if (chatKinds !== 'all' && chatKinds !== 'direct' && chatKinds !== 'groups') {
    return fail(reject(400, `Setting "chatKinds" must be "all", "direct" or "groups"; got ${JSON.stringify(chatKinds)}.`, 'chatKinds'));
  }
  const types = listOf(raw.types);
  const unknown = types.find((type) => !(RECEIVED_KINDS as readonly string[]).includes(type));
  if (unknown !== undefined) {
    return fail(reject(400, `Setting "types" names an unknown message type ${JSON.stringify(unknown)}; use any of ${RECEIVED_KINDS.join(', ')}.`, 'types'));
  }
  const limit = numberOr(raw, 'maxMediaMB', DEFAULT_MEDIA_LIMIT_MB, 0.001, 2048);
  if (!limit.ok) return limit;
  return ok({
    filter: {
      accounts: listOf(raw.accounts),
      chats: listOf(raw.chats),
      chatKinds,
      types: types as IncomingKind[],
      includeOwn: flag(raw, 'includeOwn'),
    },
    markRead: flag(raw, 'markRead'),
    downloadMedia: flag(raw, 'downloadMedia'),
    maxMediaBytes: Math.round(limit.value * 1_048_576),
  });
}

/** A list field: an array as n8n's multi-options give it, or text separated by commas or new lines. */
function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(/[,\n]/) : [];
  return items.map((item) => item.trim()).filter((item) => item !== '');
}
