import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/**
 * A local fake WhatsApp Web for linking: it completes Baileys' Noise handshake (the XX pattern WhatsApp
 * uses, with the certificate chain crabline serves, which Baileys accepts) and then asks the new device
 * to pair, as WhatsApp does, with `<iq type="set"><pair-device><ref>…</ref>…</pair-device></iq>`. Baileys
 * answers by showing a QR built from the first ref. crabline (test/baileys/support/crabline.ts) answers
 * every handshake with `success`, as for a device already linked, so it cannot show a QR; this server
 * reuses crabline's wire codecs (binary nodes, handshake protobufs, curve and AES-GCM) and does only that.
 * Every other stanza gets an empty iq result (keep-alives) or nothing.
 */
export interface PairingServer {
  readonly webSocketUrl: string;
  /** The refs each connection is offered, in order: the QR starts with the first. */
  readonly refs: readonly string[];
  /** How many sockets completed the handshake. */
  connections(): number;
  close(): Promise<void>;
}

const WIRE = join(__dirname, '../../node_modules/@openclaw/crabline/dist/src/servers/whatsapp-wire');

interface BinaryNode {
  tag: string;
  attrs: Record<string, string>;
  content?: BinaryNode[] | Uint8Array | string;
}

interface KeyPair {
  public: Uint8Array;
  private: Uint8Array;
}

// crabline exports only `import`; require() of its ESM files works on Node >= 22.12 (and in Jest with vm modules).
/* eslint-disable @typescript-eslint/no-require-imports */
const crypto = require(join(WIRE, 'crypto.js')) as {
  NOISE_MODE: string;
  NOISE_WA_HEADER: Buffer;
  Curve: { generateKeyPair(): KeyPair; sharedKey(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array };
  aesEncryptGCM(plaintext: Buffer, key: Buffer, iv: Buffer, additionalData: Buffer): Buffer;
  aesDecryptGCM(ciphertext: Buffer, key: Buffer, iv: Buffer, additionalData: Buffer): Buffer;
  hkdf(input: Buffer, length: number, params: { info: string; salt: Buffer }): Uint8Array;
  sha256(input: Buffer): Buffer;
};
const binary = require(join(WIRE, 'binary-node.js')) as { decodeBinaryNode(frame: Buffer): Promise<BinaryNode>; encodeBinaryNode(node: BinaryNode): Buffer };
const handshake = require(join(WIRE, 'handshake.js')) as {
  decodeHandshakeMessage(data: Buffer): { clientHello?: { ephemeral?: Uint8Array }; clientFinish?: { staticKey?: Uint8Array; payload?: Uint8Array } };
  encodeHandshakeMessage(message: { serverHello: { ephemeral: Uint8Array; staticKey: Uint8Array; payload: Uint8Array } }): Uint8Array;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The certificate chain crabline's server presents (Baileys checks its issuer serial). */
const CERT_CHAIN = Buffer.from(
  'CncKMwjjAhADGiCRKg7Kg1iu4CSulwLBaxX51Tefw6VXGgZqcr5OEbXIRiDQ04bOBijQjZ/TBhJA34Bj82jAHhLpCWBNVBlGnFDieamd8+138S57uMt9ke9mrn5r4+VepwBPKEgHjob6bR70rlCmWDkxZv+CfVjIAxJ2CjIIAxAAGiAcUamsMDmUxsjQuS6hh4pTNHZZnMWZ++o1mX2aqQzOYiCAka6+Bij/3rfcBhJAJw8pRkhTn+1IcOJQVN1OlZg6uikYnCumyO7acFVVX3U3QPXsGSq2TCbCbWrebSC593Su43EgprIDlfU8ZgWFBw==',
  'base64',
);
const EMPTY = Buffer.alloc(0);

const iv = (counter: number): Buffer => {
  const value = Buffer.alloc(12);
  value.writeUInt32BE(counter, 8);
  return value;
};

const frame = (data: Uint8Array): Buffer => {
  const out = Buffer.alloc(3 + data.byteLength);
  out.writeUIntBE(data.byteLength, 0, 3);
  out.set(data, 3);
  return out;
};

/** The server side of one socket's Noise XX handshake, then its transport (as crabline's BaileysNoiseServer). */
class NoiseSession {
  private hash: Buffer;
  private salt: Buffer;
  private key: Buffer;
  private counter = 0;
  private ephemeral: KeyPair | undefined;
  private transport: { enc: Buffer; dec: Buffer; read: number; write: number } | undefined;
  private buffered = EMPTY;
  private introSeen = false;

  constructor() {
    const mode = Buffer.from(crypto.NOISE_MODE);
    this.hash = mode.byteLength === 32 ? mode : crypto.sha256(mode);
    this.salt = this.hash;
    this.key = this.hash;
    this.authenticate(crypto.NOISE_WA_HEADER);
  }

  get open(): boolean {
    return this.transport !== undefined;
  }

  /** Length-prefixed frames in `data` (the first chunk starts with WhatsApp's intro header). */
  frames(data: Buffer): Buffer[] {
    let chunk = data;
    if (!this.introSeen) {
      this.introSeen = true;
      if (chunk.subarray(0, crypto.NOISE_WA_HEADER.length).equals(crypto.NOISE_WA_HEADER)) chunk = chunk.subarray(crypto.NOISE_WA_HEADER.length);
    }
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const frames: Buffer[] = [];
    while (this.buffered.length >= 3) {
      const size = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < size + 3) break;
      frames.push(this.buffered.subarray(3, 3 + size));
      this.buffered = this.buffered.subarray(3 + size);
    }
    return frames;
  }

  serverHello(data: Buffer): Buffer {
    const clientEphemeral = handshake.decodeHandshakeMessage(data).clientHello?.ephemeral;
    if (!clientEphemeral) throw new Error('Not a client hello.');
    this.authenticate(clientEphemeral);
    this.ephemeral = crypto.Curve.generateKeyPair();
    const serverStatic = crypto.Curve.generateKeyPair();
    this.authenticate(this.ephemeral.public);
    this.mixIntoKey(crypto.Curve.sharedKey(this.ephemeral.private, clientEphemeral));
    const staticKey = this.encrypt(serverStatic.public);
    this.mixIntoKey(crypto.Curve.sharedKey(serverStatic.private, clientEphemeral));
    const payload = this.encrypt(CERT_CHAIN);
    return frame(handshake.encodeHandshakeMessage({ serverHello: { ephemeral: this.ephemeral.public, staticKey, payload } }));
  }

  clientFinish(data: Buffer): void {
    const finish = handshake.decodeHandshakeMessage(data).clientFinish;
    if (!finish?.staticKey || !finish.payload || !this.ephemeral) throw new Error('Not a client finish.');
    const clientStatic = this.decrypt(finish.staticKey);
    this.mixIntoKey(crypto.Curve.sharedKey(this.ephemeral.private, clientStatic));
    this.decrypt(finish.payload);
    const [write, read] = this.split(EMPTY);
    // The client writes with the first key: the server reads with it.
    this.transport = { enc: read, dec: write, read: 0, write: 0 };
  }

  async decode(data: Buffer): Promise<BinaryNode> {
    const transport = this.transport!;
    return binary.decodeBinaryNode(crypto.aesDecryptGCM(data, transport.dec, iv(transport.read++), EMPTY));
  }

  encode(node: BinaryNode): Buffer {
    const transport = this.transport!;
    return frame(crypto.aesEncryptGCM(binary.encodeBinaryNode(node), transport.enc, iv(transport.write++), EMPTY));
  }

  private authenticate(data: Uint8Array): void {
    this.hash = crypto.sha256(Buffer.concat([this.hash, Buffer.from(data)]));
  }

  private encrypt(plaintext: Uint8Array): Buffer {
    const result = crypto.aesEncryptGCM(Buffer.from(plaintext), this.key, iv(this.counter++), this.hash);
    this.authenticate(result);
    return result;
  }

  private decrypt(ciphertext: Uint8Array): Buffer {
    const result = crypto.aesDecryptGCM(Buffer.from(ciphertext), this.key, iv(this.counter++), this.hash);
    this.authenticate(ciphertext);
    return result;
  }

  private split(data: Buffer): [Buffer, Buffer] {
    const key = Buffer.from(crypto.hkdf(data, 64, { info: '', salt: this.salt }));
    return [key.subarray(0, 32), key.subarray(32)];
  }

  private mixIntoKey(data: Uint8Array): void {
    const [write, read] = this.split(Buffer.from(data));
    this.salt = write;
    this.key = read;
    this.counter = 0;
  }
}

const toBuffer = (data: RawData): Buffer => (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));

export async function pairingServer(): Promise<PairingServer> {
  const refs = Array.from({ length: 3 }, () => `2@${randomBytes(18).toString('base64')}`);
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  let handshakes = 0;
  const sockets = new Set<WebSocket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const noise = new NoiseSession();
    let step: 'hello' | 'finish' | 'open' = 'hello';
    let queue = Promise.resolve();
    socket.on('message', (data) => {
      queue = queue
        .then(async () => {
          for (const part of noise.frames(toBuffer(data))) {
            if (step === 'hello') {
              socket.send(noise.serverHello(part));
              step = 'finish';
            } else if (step === 'finish') {
              noise.clientFinish(part);
              step = 'open';
              handshakes++;
              const refNodes = refs.map((ref): BinaryNode => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) }));
              socket.send(
                noise.encode({
                  tag: 'iq',
                  attrs: { from: 's.whatsapp.net', type: 'set', id: randomBytes(4).toString('hex'), xmlns: 'md' },
                  content: [{ tag: 'pair-device', attrs: {}, content: refNodes }],
                }),
              );
            } else {
              const node = await noise.decode(part);
              if (node.tag === 'iq' && node.attrs.type === 'get' && node.attrs.id) {
                socket.send(noise.encode({ tag: 'iq', attrs: { from: 's.whatsapp.net', type: 'result', id: node.attrs.id } }));
              }
            }
          }
        })
        .catch(() => socket.terminate());
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    webSocketUrl: `ws://127.0.0.1:${port}/ws/chat`,
    refs,
    connections: () => handshakes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        server.close(() => resolve());
      }),
  };
}
