import { loadBaileys, type WAMessage } from './baileys-module';

/**
 * A received message as IncomingMessage.raw holds it: JSON-safe, so the store can keep it as JSON text.
 * Buffers become `{type: 'Buffer', data: base64}` (Baileys' BufferJSON); protobuf objects serialise
 * themselves (bytes as base64 strings, enums by name, 64-bit numbers as strings).
 */
export function rawMessage(message: WAMessage): unknown {
  return JSON.parse(JSON.stringify(message, loadBaileys().BufferJSON.replacer)) as unknown;
}

/**
 * The WAMessage back from what `rawMessage` gave (as stored and parsed again, or untouched). Baileys'
 * proto decoding turns base64 strings and enum names back into bytes and numbers, which quoting and
 * media downloads need; the key keeps the fields Baileys adds beside the protobuf's (`remoteJidAlt`…).
 * Undefined when `raw` is no message.
 */
export function reviveMessage(raw: unknown): WAMessage | undefined {
  const { BufferJSON, proto } = loadBaileys();
  if (raw === null || typeof raw !== 'object') return undefined;
  const plain = JSON.parse(JSON.stringify(raw, BufferJSON.replacer), BufferJSON.reviver) as { key?: unknown; message?: unknown };
  if (!isKey(plain.key) || !plain.message || typeof plain.message !== 'object') return undefined;
  try {
    const revived = proto.WebMessageInfo.fromObject(plain);
    return Object.assign(revived, { key: { ...plain.key } });
  } catch {
    return undefined;
  }
}

function isKey(key: unknown): key is { id: string; remoteJid: string } {
  const { id, remoteJid } = (key ?? {}) as { id?: unknown; remoteJid?: unknown };
  return typeof id === 'string' && typeof remoteJid === 'string';
}
