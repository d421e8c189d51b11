import type { IncomingMedia, IncomingMessage } from '../types';
import { loadBaileys, type ProtoMessage } from './baileys-module';

/** What a received message says, apart from who sent it where and when. */
export type IncomingContent = Pick<
  IncomingMessage,
  'kind' | 'text' | 'quoted' | 'mentions' | 'media' | 'reaction' | 'targetId' | 'location' | 'contacts' | 'poll'
>;

type Proto = NonNullable<ProtoMessage>;
type ContextInfo = NonNullable<NonNullable<Proto['extendedTextMessage']>['contextInfo']>;
type MediaFields = { mimetype?: string | null; fileLength?: unknown; fileName?: string | null; seconds?: number | null };

/** `proto.Message.ProtocolMessage.Type`: the two a person does; the rest is the clients' housekeeping. */
const PROTOCOL = { REVOKE: 0, MESSAGE_EDIT: 14 } as const;

/** Keys that ride along with a message for the clients' own use, never one a person sent. */
const HOUSEKEEPING = new Set(['senderKeyDistributionMessage', 'fastRatchetKeySenderKeyDistributionMessage', 'messageContextInfo']);

const POLLS = ['pollCreationMessage', 'pollCreationMessageV2', 'pollCreationMessageV3', 'pollCreationMessageV5'] as const;

/**
 * The content of a received message, unwrapped (ephemeral, view once, document with caption, edited)
 * and sorted into a kind. Undefined for housekeeping a person never sent: sender keys, history sync
 * notices, disappearing-message settings and every other protocol message but a deletion or an edit.
 */
export function contentOf(message: ProtoMessage | null | undefined): IncomingContent | undefined {
  const content = loadBaileys().normalizeMessageContent(message);
  const type = contentType(content);
  if (!content || !type) return undefined;
  const base = { ...EMPTY, ...context(content, type) };
  if (type === 'protocolMessage') return protocol(content.protocolMessage!);
  if (type === 'reactionMessage') {
    const reaction = content.reactionMessage!;
    return { ...base, kind: 'reaction', reaction: { emoji: reaction.text ?? '', targetId: reaction.key?.id ?? '' } };
  }
  const poll = POLLS.find((key) => key === type);
  if (poll) {
    const { name, options } = content[poll]!;
    return { ...base, kind: 'poll', poll: { name: name ?? '', options: (options ?? []).map((option) => option.optionName ?? '') } };
  }
  switch (type) {
    case 'conversation':
    case 'extendedTextMessage':
      return { ...base, kind: 'text', text: textOf(content) };
    case 'imageMessage':
    case 'stickerMessage':
    case 'documentMessage': {
      const kind = type === 'imageMessage' ? 'image' : type === 'stickerMessage' ? 'sticker' : 'document';
      return { ...base, kind, text: textOf(content), media: mediaOf(content[type]!) };
    }
    // A GIF is a video that loops; a round video note (ptv) is a video too.
    case 'videoMessage':
    case 'ptvMessage':
      return { ...base, kind: 'video', text: textOf(content), media: mediaOf(content[type]!) };
    case 'audioMessage': {
      const audio = content.audioMessage!;
      return { ...base, kind: audio.ptt ? 'voice' : 'audio', media: mediaOf(audio) };
    }
    case 'locationMessage': {
      const { degreesLatitude, degreesLongitude, name, address, comment } = content.locationMessage!;
      return { ...base, kind: 'location', text: comment || null, location: place(degreesLatitude, degreesLongitude, name, address) };
    }
    case 'liveLocationMessage': {
      const { degreesLatitude, degreesLongitude, caption } = content.liveLocationMessage!;
      return { ...base, kind: 'location', text: caption || null, location: place(degreesLatitude, degreesLongitude, null, null) };
    }
    case 'contactMessage':
      return { ...base, kind: 'contact', contacts: [card(content.contactMessage!)] };
    case 'contactsArrayMessage':
      return { ...base, kind: 'contact', contacts: (content.contactsArrayMessage!.contacts ?? []).map(card) };
    default:
      return { ...base, kind: 'other' };
  }
}

/** The text or caption of a message's content, where it has one. */
export function textOf(content: Proto | null | undefined): string | null {
  if (!content) return null;
  return (
    content.conversation ||
    content.extendedTextMessage?.text ||
    content.imageMessage?.caption ||
    content.videoMessage?.caption ||
    content.ptvMessage?.caption ||
    content.documentMessage?.caption ||
    null
  );
}

const EMPTY: IncomingContent = {
  kind: 'other',
  text: null,
  quoted: null,
  mentions: [],
  media: null,
  reaction: null,
  targetId: null,
  location: null,
  contacts: null,
  poll: null,
};

/** The kind of content, as Baileys names it, skipping the keys that only ride along. */
function contentType(content: Proto | undefined): keyof Proto | undefined {
  if (!content) return undefined;
  return (Object.keys(content) as (keyof Proto)[]).find(
    (key) => (key === 'conversation' || key.includes('Message')) && !HOUSEKEEPING.has(key) && content[key] !== null && content[key] !== undefined,
  );
}

function protocol(message: NonNullable<Proto['protocolMessage']>): IncomingContent | undefined {
  const targetId = message.key?.id ?? null;
  if (message.type === PROTOCOL.REVOKE) return { ...EMPTY, kind: 'delete', targetId };
  if (message.type !== PROTOCOL.MESSAGE_EDIT) return undefined;
  const edited = loadBaileys().normalizeMessageContent(message.editedMessage);
  const type = contentType(edited);
  return { ...EMPTY, ...(edited && type ? { mentions: context(edited, type).mentions } : {}), kind: 'edit', text: textOf(edited), targetId };
}

/** What the content's contextInfo says: the message it replies to, and who it mentions. */
function context(content: Proto, type: keyof Proto): Pick<IncomingContent, 'quoted' | 'mentions'> {
  const value = content[type];
  const info = value && typeof value === 'object' && 'contextInfo' in value ? (value.contextInfo as ContextInfo | null | undefined) : undefined;
  const quoted = info?.stanzaId
    ? { id: info.stanzaId, text: textOf(loadBaileys().normalizeMessageContent(info.quotedMessage)), senderJid: info.participant || null }
    : null;
  return { quoted, mentions: [...(info?.mentionedJid ?? [])] };
}

function mediaOf(media: MediaFields): IncomingMedia {
  return {
    mimetype: media.mimetype || null,
    size: numberOf(media.fileLength),
    fileName: media.fileName || null,
    seconds: typeof media.seconds === 'number' ? media.seconds : null,
  };
}

/** A protobuf 64-bit number (a Long, a number, or a string after JSON) as a number. */
function numberOf(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const number = Number(typeof value === 'object' ? String(value) : value);
  return Number.isFinite(number) ? number : null;
}

function place(latitude: number | null | undefined, longitude: number | null | undefined, name: string | null | undefined, address: string | null | undefined): IncomingContent['location'] {
  return { latitude: latitude ?? 0, longitude: longitude ?? 0, name: name || null, address: address || null };
}

function card(contact: { displayName?: string | null; vcard?: string | null }): { displayName: string | null; vcard: string | null } {
  return { displayName: contact.displayName || null, vcard: contact.vcard || null };
}

