import type { IncomingMessage, IncomingParty } from '../types';
import { loadBaileys, type BaileysEventMap, type WAMessage } from './baileys-module';
import { contentOf } from './incoming-content';
import { rawMessage } from './raw-message';

/** The account itself, the sender of what it sends from its phone. */
export interface AccountSelf {
  /** Its phone JID, without a device (`15105566777@s.whatsapp.net`). */
  readonly jid: string;
  readonly lid: string | null;
}

export interface IncomingContext {
  /** Whether this connection sent the message with this id (its echo is not news). */
  isOurSend(id: string): boolean;
  readonly self: AccountSelf;
}

/**
 * New messages in a `messages.upsert` batch, normalised. Both batch types carry news: `notify` is
 * what arrives while connected, and `append` is, in Baileys 7.0.0-rc14, what WhatsApp queued while
 * the device was offline (replayed on reconnect, `node.attrs.offline`), our own sends being filed, and
 * stubs rebuilt from notifications. History never comes this way (it is `messaging-history.set`).
 * Dropped: the echo of our own send (`isOurSend`), stubs without content, status and other
 * broadcasts, newsletters, and housekeeping (see contentOf). A message sent from the phone itself is
 * kept, with `fromMe`. The same message may come twice (live, then replayed): the store dedupes by id.
 */
export function incomingFrom(upsert: BaileysEventMap['messages.upsert'] | undefined, context: IncomingContext): IncomingMessage[] {
  if (!upsert) return [];
  const { isJidBroadcast, isJidNewsletter } = loadBaileys();
  return upsert.messages.flatMap((message): IncomingMessage[] => {
    const { id, remoteJid, fromMe } = message.key;
    if (!id || !remoteJid || !message.message) return [];
    if (isJidBroadcast(remoteJid) || isJidNewsletter(remoteJid)) return [];
    if (fromMe && context.isOurSend(id)) return [];
    const content = contentOf(message.message);
    if (!content) return [];
    const isGroup = remoteJid.endsWith('@g.us');
    return [
      {
        id,
        chatJid: remoteJid,
        isGroup,
        sender: fromMe ? selfParty(context.self, message) : senderParty(message, isGroup),
        fromMe: fromMe === true,
        at: timestampMs(message),
        ...content,
        raw: rawMessage(message),
      },
    ];
  });
}

/** The same message with the sender's phone filled in (from a LID ↔ phone map). */
export function withSenderPhone(message: IncomingMessage, phoneJid: string): IncomingMessage {
  const phone = idsOf(phoneJid).phone;
  return phone ? { ...message, sender: { ...message.sender, phone } } : message;
}

/** The account's own JIDs from its creds (`me.id` carries a device: `15105566777:12@s.whatsapp.net`). */
export function accountSelf(me: { readonly id: string; readonly lid?: string | null | undefined }): AccountSelf {
  const { jidNormalizedUser } = loadBaileys();
  return { jid: jidNormalizedUser(me.id), lid: me.lid ? jidNormalizedUser(me.lid) : null };
}

function selfParty(self: AccountSelf, message: WAMessage): IncomingParty {
  return { jid: self.jid, phone: idsOf(self.jid).phone, lid: self.lid, pushName: message.pushName || null };
}

/** The contact in a direct chat, the participant in a group; Baileys 7 names the other form of the JID in `…Alt`. */
function senderParty(message: WAMessage, isGroup: boolean): IncomingParty {
  const { key } = message;
  const jid = loadBaileys().jidNormalizedUser((isGroup ? key.participant || message.participant : key.remoteJid) ?? undefined);
  const alt = isGroup ? key.participantAlt : key.remoteJidAlt;
  const own = idsOf(jid);
  const other = alt ? idsOf(alt) : { phone: null, lid: null };
  return { jid, phone: own.phone ?? other.phone, lid: own.lid ?? other.lid, pushName: message.pushName || null };
}

/** The phone digits of a phone JID, or the LID of a LID JID. */
function idsOf(jid: string): { phone: string | null; lid: string | null } {
  const { jidDecode, jidNormalizedUser } = loadBaileys();
  const decoded = jidDecode(jid);
  if (!decoded?.user) return { phone: null, lid: null };
  if (decoded.server === 's.whatsapp.net' || decoded.server === 'hosted') return { phone: decoded.user, lid: null };
  if (decoded.server === 'lid' || decoded.server === 'hosted.lid') return { phone: null, lid: jidNormalizedUser(jid) };
  return { phone: null, lid: null };
}

/** Baileys gives seconds, as a number or a protobuf Long. */
function timestampMs({ messageTimestamp }: WAMessage): number {
  if (messageTimestamp === null || messageTimestamp === undefined) return Date.now();
  return Number(messageTimestamp) * 1000;
}
