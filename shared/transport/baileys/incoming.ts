import type { IncomingMessage } from '../types';
import type { BaileysEventMap, WAMessage } from './baileys-module';

/**
 * New messages in a `messages.upsert` batch. Only `notify` batches are new (those delivered while
 * connected and on reconnect); `append` is history and our own sends being filed. A message of ours
 * coming back (`isOurSend`) is an echo, not news; one sent from the phone itself is, with `fromMe`.
 */
export function incomingFrom(upsert: BaileysEventMap['messages.upsert'] | undefined, isOurSend: (id: string) => boolean): IncomingMessage[] {
  if (!upsert || upsert.type !== 'notify') return [];
  return upsert.messages.flatMap((message) => {
    const { id, remoteJid, fromMe, participant } = message.key;
    if (!id || !remoteJid || !message.message || remoteJid === 'status@broadcast') return [];
    if (fromMe && isOurSend(id)) return [];
    return [
      {
        id,
        chatJid: remoteJid,
        senderJid: participant ?? (fromMe ? null : remoteJid),
        fromMe: fromMe === true,
        at: timestampMs(message),
        text: textOf(message),
        raw: message,
      },
    ];
  });
}

function textOf({ message }: WAMessage): string | null {
  return (
    message?.conversation ??
    message?.extendedTextMessage?.text ??
    message?.imageMessage?.caption ??
    message?.videoMessage?.caption ??
    message?.documentMessage?.caption ??
    null
  );
}

/** Baileys gives seconds, as a number or a protobuf Long. */
function timestampMs({ messageTimestamp }: WAMessage): number {
  if (messageTimestamp === null || messageTimestamp === undefined) return Date.now();
  return Number(messageTimestamp) * 1000;
}
