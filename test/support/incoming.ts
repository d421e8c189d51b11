import type { IncomingMessage } from '../../shared/transport/types';

let counter = 0;

/** A normalised incoming text from a contact, as a transport reports it; fields can be overridden. */
export function incomingText(overrides: Partial<IncomingMessage> = {}): IncomingMessage {
  counter += 1;
  const id = `3A${String(counter).padStart(6, '0')}${Math.random().toString(16).slice(2, 10).toUpperCase()}`;
  return {
    id,
    chatJid: '14155550123@s.whatsapp.net',
    isGroup: false,
    sender: { jid: '14155550123@s.whatsapp.net', phone: '14155550123', lid: null, pushName: 'Alice' },
    fromMe: false,
    at: 1_780_000_000_000 + counter,
    kind: 'text',
    text: `hello ${counter}`,
    quoted: null,
    mentions: [],
    media: null,
    reaction: null,
    targetId: null,
    location: null,
    contacts: null,
    poll: null,
    raw: { key: { id, remoteJid: '14155550123@s.whatsapp.net', fromMe: false }, message: { conversation: `hello ${counter}` } },
    ...overrides,
  };
}
