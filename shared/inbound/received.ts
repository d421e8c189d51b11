import type { IncomingKind, IncomingMessage, IncomingParty } from '../transport/types';

/** A person as flows see them. */
export interface ReceivedParty {
  readonly jid: string;
  readonly phone: string | null;
  readonly lid: string | null;
  readonly push_name: string | null;
}

/**
 * A received message as both engines hand it to flows (n8n's WhatsApp Trigger, Node-RED's whatsapp-in):
 * one shape, snake_case like the webhook's contract, JSON-safe. `chat_id` is the id the webhook accepts,
 * so replying by `chat_id` (with `quoted_message_id: id`) answers in the same chat, in thread.
 */
export interface ReceivedMessage {
  readonly event: 'message';
  /** WhatsApp's id of the message (`quoted_message_id` of a reply). */
  readonly id: string;
  readonly account: { readonly id: string; readonly phone: string | null };
  readonly chat_id: string;
  readonly chat_name: string | null;
  readonly chat_jid: string;
  readonly is_group: boolean;
  /** Who wrote it: the contact in a direct chat, the participant in a group, the account when from_me. */
  readonly sender: ReceivedParty;
  /** In a group, the participant who wrote it (the same as sender); null in a direct chat. */
  readonly participant: ReceivedParty | null;
  readonly from_me: boolean;
  /** When it was sent (ISO 8601). */
  readonly timestamp: string;
  readonly type: IncomingKind;
  /** The text or caption (for an edit: the new text). */
  readonly text: string | null;
  readonly quoted: { readonly id: string; readonly text: string | null; readonly sender_jid: string | null } | null;
  readonly mentions: readonly string[];
  readonly media: {
    readonly mimetype: string | null;
    readonly size: number | null;
    readonly file_name: string | null;
    readonly seconds: number | null;
  } | null;
  readonly reaction: { readonly emoji: string; readonly target_id: string } | null;
  /** For an edit or a deletion: the id of the message it changes. */
  readonly target_id: string | null;
  readonly location: { readonly latitude: number; readonly longitude: number; readonly name: string | null; readonly address: string | null } | null;
  readonly contacts: readonly { readonly display_name: string | null; readonly vcard: string | null }[] | null;
  readonly poll: { readonly name: string; readonly options: readonly string[] } | null;
}

/** Where a received message arrived: its account and the chat the directory knows it as. */
export interface ArrivalPlace {
  readonly account: { readonly id: string; readonly phone: string | null };
  readonly chat: { readonly chatId: string; readonly name: string | null };
}

/**
 * The flow-facing shape of a normalised incoming message. `phoneOfLid` completes a LID-only party from
 * the directory's LID ↔ phone map (WhatsApp names more and more people by LID alone).
 */
export function receivedMessage(incoming: IncomingMessage, place: ArrivalPlace, phoneOfLid: (lid: string) => string | null = () => null): ReceivedMessage {
  const sender = party(incoming.sender, phoneOfLid);
  return {
    event: 'message',
    id: incoming.id,
    account: place.account,
    chat_id: place.chat.chatId,
    chat_name: place.chat.name,
    chat_jid: incoming.chatJid,
    is_group: incoming.isGroup,
    sender,
    participant: incoming.isGroup ? sender : null,
    from_me: incoming.fromMe,
    timestamp: new Date(incoming.at).toISOString(),
    type: incoming.kind,
    text: incoming.text,
    quoted: incoming.quoted && { id: incoming.quoted.id, text: incoming.quoted.text, sender_jid: incoming.quoted.senderJid },
    mentions: [...incoming.mentions],
    media: incoming.media && {
      mimetype: incoming.media.mimetype,
      size: incoming.media.size,
      file_name: incoming.media.fileName,
      seconds: incoming.media.seconds,
    },
    reaction: incoming.reaction && { emoji: incoming.reaction.emoji, target_id: incoming.reaction.targetId },
    target_id: incoming.targetId,
    location: incoming.location,
    contacts: incoming.contacts && incoming.contacts.map((contact) => ({ display_name: contact.displayName, vcard: contact.vcard })),
    poll: incoming.poll && { name: incoming.poll.name, options: [...incoming.poll.options] },
  };
}

function party(incoming: IncomingParty, phoneOfLid: (lid: string) => string | null): ReceivedParty {
  const phone = incoming.phone ?? (incoming.lid ? phoneOfLid(incoming.lid) : null);
  return { jid: incoming.jid, phone, lid: incoming.lid, push_name: incoming.pushName };
}
