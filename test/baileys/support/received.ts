import { loadBaileys, type WAMessage } from '../../../shared/transport/baileys/baileys-module';
import { reviveMessage } from '../../../shared/transport/baileys/raw-message';
import type { IncomingMessage } from '../../../shared/transport/types';
import { ME } from './harness';

export const PEER = '14151231234@s.whatsapp.net';
export const PEER_LID = '123456789012345@lid';
export const GROUP = '120363001234567890@g.us';
/** The account of the harness (ME), as its creds name it and as incoming messages name it. */
export const SELF = { jid: '15105566777@s.whatsapp.net', lid: null };
/** When the test messages were sent (seconds, as WhatsApp stamps them). */
export const SENT_AT = 1_795_000_000;

export interface ReceivedOptions {
  /** The chat (default PEER). */
  readonly chat?: string;
  /** The group participant who wrote it. */
  readonly participant?: string;
  readonly fromMe?: boolean;
  readonly pushName?: string;
  readonly remoteJidAlt?: string;
  readonly participantAlt?: string;
}

/**
 * A received message as Baileys hands it over: its content decoded into protobuf objects
 * (`proto.Message.fromObject`), wrapped by Baileys' own `generateWAMessageFromContent`, and the key
 * as Baileys 7 fills it for incoming traffic (sender, alternative JIDs).
 */
export function received(id: string, content: object, options: ReceivedOptions = {}): WAMessage {
  const { generateWAMessageFromContent, proto } = loadBaileys();
  const chat = options.chat ?? PEER;
  const built = generateWAMessageFromContent(chat, proto.Message.fromObject(content), { userJid: ME.id, messageId: id, timestamp: new Date(SENT_AT * 1000) });
  return {
    key: {
      remoteJid: chat,
      fromMe: options.fromMe ?? false,
      id,
      ...(options.participant ? { participant: options.participant } : {}),
      ...(options.remoteJidAlt ? { remoteJidAlt: options.remoteJidAlt } : {}),
      ...(options.participantAlt ? { participantAlt: options.participantAlt } : {}),
    },
    message: built.message,
    messageTimestamp: built.messageTimestamp,
    ...(options.pushName ? { pushName: options.pushName } : {}),
  };
}

/** Every field of an incoming message but raw, with the defaults of a text from PEER. */
export function expected(id: string, fields: Partial<Omit<IncomingMessage, 'raw'>> = {}): Omit<IncomingMessage, 'raw'> {
  return {
    id,
    chatJid: PEER,
    isGroup: false,
    sender: { jid: PEER, phone: '14151231234', lid: null, pushName: null },
    fromMe: false,
    at: SENT_AT * 1000,
    kind: 'text',
    text: null,
    quoted: null,
    mentions: [],
    media: null,
    reaction: null,
    targetId: null,
    location: null,
    contacts: null,
    poll: null,
    ...fields,
  };
}

/** The incoming message without raw, for toEqual on everything else. */
export function withoutRaw({ raw: _raw, ...rest }: IncomingMessage): Omit<IncomingMessage, 'raw'> {
  return rest;
}

/**
 * Whether raw is what the store can keep and give back: plain JSON (a JSON round trip changes nothing),
 * and revived, the very message that arrived (same key, same protobuf bytes).
 */
export function expectRawRevives(incoming: IncomingMessage, original: WAMessage): void {
  const { proto } = loadBaileys();
  const stored = JSON.parse(JSON.stringify(incoming.raw)) as unknown;
  expect(stored).toEqual(incoming.raw);
  const revived = reviveMessage(stored);
  expect(revived?.key).toEqual(original.key);
  expect(Buffer.from(proto.Message.encode(revived!.message!).finish())).toEqual(Buffer.from(proto.Message.encode(original.message!).finish()));
}
