import { createCipheriv, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { loadBaileys, type WAMessage } from '../../shared/transport/baileys/baileys-module';
import { TransportError, type IncomingMessage, type MessageReference } from '../../shared/transport/types';
import { settle } from './support/fake-clock';
import { openHarness, type Harness } from './support/harness';
import { GROUP, PEER, PEER_LID, received } from './support/received';

// Replying in thread, read receipts and media downloads, over a fake socket (Baileys' own message
// builders and media crypto, no network but a local file server).

/** What the store keeps of a received message and gives back: a reference whose raw went through JSON. */
function reference(incoming: IncomingMessage): MessageReference {
  return { id: incoming.id, chatJid: incoming.chatJid, senderJid: incoming.sender.jid, fromMe: incoming.fromMe, raw: JSON.parse(JSON.stringify(incoming.raw)) as unknown };
}

describe('BaileysConnection: replies, read receipts, media of received messages', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
    h.sockets.last.open();
    await settle();
  });
  afterEach(async () => {
    await h.close();
    expect(h.errors).toEqual([]);
  });

  /** Delivers `messages` on the socket and gives back what onIncoming heard. */
  const receive = async (...messages: WAMessage[]): Promise<IncomingMessage[]> => {
    const heard: IncomingMessage[] = [];
    const stop = h.connection.onIncoming((incoming) => heard.push(incoming));
    h.sockets.last.emit('messages.upsert', { type: 'notify', messages });
    await settle();
    stop();
    return heard;
  };

  describe('a send with options.quoted', () => {
    it('passes the received message, revived, as sendMessage\'s quoted, keeping our id; Baileys builds the quote from it', async () => {
      const original = received('IN-Q1', { conversation: 'can you call me?' }, { pushName: 'Ana' });
      const [incoming] = await receive(original);
      await h.connection.sendText(PEER, 'calling now', '3EB0REPLY0000000000000', { quoted: reference(incoming!) });
      const [call] = h.sockets.last.sent;
      expect(call).toMatchObject({ jid: PEER, messageId: '3EB0REPLY0000000000000', content: { text: 'calling now', linkPreview: null } });
      expect(call!.quoted?.key).toEqual(original.key);
      const { generateWAMessageFromContent, proto } = loadBaileys();
      expect(Buffer.from(proto.Message.encode(call!.quoted!.message!).finish())).toEqual(Buffer.from(proto.Message.encode(original.message!).finish()));
      // What Baileys' sendMessage does with it: the reply's contextInfo names the quoted message.
      const reply = generateWAMessageFromContent(PEER, { extendedTextMessage: { text: 'calling now' } }, { userJid: 'x@s.whatsapp.net', quoted: call!.quoted! });
      expect(reply.message?.extendedTextMessage?.contextInfo).toMatchObject({ stanzaId: 'IN-Q1', participant: PEER, quotedMessage: { conversation: 'can you call me?' } });
    });

    it('a group message, quoted in a media reply: the participant goes with it', async () => {
      const [incoming] = await receive(received('IN-G1', { conversation: 'photo please' }, { chat: GROUP, participant: PEER_LID }));
      const media = { kind: 'image' as const, buffer: Buffer.from('jpeg'), mimetype: 'image/jpeg', fileName: 'a.jpg' };
      await h.connection.sendMedia(GROUP, media, '3EB0REPLY0000000000001', { quoted: reference(incoming!) });
      expect(h.sockets.last.sent.map((call) => [call.messageId, call.quoted?.key])).toEqual([
        ['3EB0REPLY0000000000001', { remoteJid: GROUP, fromMe: false, id: 'IN-G1', participant: PEER_LID }],
      ]);
    });

    it('without options, or options without quoted: no quote', async () => {
      await h.connection.sendText(PEER, 'plain', '3EB0PLAIN0000000000000');
      await h.connection.sendText(PEER, 'plain too', '3EB0PLAIN0000000000001', {});
      expect(h.sockets.last.sent.map((call) => 'quoted' in call)).toEqual([false, false]);
    });

    it('a reference whose raw is no WhatsApp message fails for good, and nothing is sent', async () => {
      const quoted: MessageReference = { id: 'X', chatJid: PEER, senderJid: PEER, fromMe: false, raw: { not: 'a message' } };
      await expect(h.connection.sendText(PEER, 'reply', '3EB0BAD00000000000000A', { quoted })).rejects.toEqual(
        new TransportError('permanent', 'The message to reply to (X) was not kept in a form WhatsApp can quote.'),
      );
      expect(h.sockets.last.sent).toEqual([]);
    });
  });

  describe('markRead', () => {
    it('sends read receipts with the keys WhatsApp names: chat and id, fromMe, and the participant in a group', async () => {
      const [direct, inGroup] = await receive(received('R1', { conversation: 'a' }), received('R2', { conversation: 'b' }, { chat: GROUP, participant: PEER_LID }));
      await h.connection.markRead([reference(direct!), reference(inGroup!)]);
      expect(h.sockets.last.reads).toEqual([
        [
          { remoteJid: PEER, id: 'R1', fromMe: false },
          { remoteJid: GROUP, id: 'R2', fromMe: false, participant: PEER_LID },
        ],
      ]);
    });

    it('nothing to mark: no call', async () => {
      await h.connection.markRead([]);
      expect(h.sockets.last.reads).toEqual([]);
    });

    it('not connected: unavailable, and the socket is not asked', async () => {
      const socket = h.sockets.last;
      socket.disconnect(428);
      await settle();
      const ref: MessageReference = { id: 'R3', chatJid: PEER, senderJid: PEER, fromMe: false, raw: null };
      await expect(h.connection.markRead([ref])).rejects.toMatchObject({ name: 'TransportError', kind: 'unavailable' });
      expect(socket.reads).toEqual([]);
    });

    it('WhatsApp does not answer: transient after the call timeout', async () => {
      h.sockets.last.read = () => new Promise(() => undefined);
      const ref: MessageReference = { id: 'R4', chatJid: PEER, senderJid: PEER, fromMe: false, raw: null };
      const marking = h.connection.markRead([ref]).catch((error: unknown) => error);
      await h.clock.advance(30_000);
      await expect(marking).resolves.toEqual(new TransportError('transient', 'WhatsApp did not answer marking the messages read in time.'));
    });
  });

  describe('downloadMedia', () => {
    let files: MediaServer;
    beforeEach(async () => {
      files = await mediaServer();
    });
    afterEach(() => files.close());

    const photo = (id: string, path: string, encrypted: EncryptedFile) =>
      received(id, { imageMessage: { url: `${files.url}${path}`, mimetype: 'image/jpeg', fileLength: encrypted.plain.length, mediaKey: encrypted.mediaKey } });

    it('fetches and decrypts the file of a received photo, from raw as the store gave it back', async () => {
      const file = await encrypt(Buffer.from('the bytes of a photo, not really a jpeg'));
      files.serve('/photo1', 200, file.encrypted);
      const [incoming] = await receive(photo('M1', '/photo1', file));
      expect(await h.connection.downloadMedia(reference(incoming!).raw)).toEqual(file.plain);
    });

    it('a file the servers no longer have (410): the phone is asked to upload it again, then it downloads', async () => {
      const file = await encrypt(Buffer.from('uploaded again'));
      files.serve('/expired', 410, Buffer.alloc(0));
      files.serve('/renewed', 200, file.encrypted);
      const [incoming] = await receive(photo('M2', '/expired', file));
      h.sockets.last.reupload = async (stale) => ({
        ...stale,
        message: { imageMessage: { ...stale.message!.imageMessage, url: `${files.url}/renewed` } },
      });
      expect(await h.connection.downloadMedia(reference(incoming!).raw)).toEqual(file.plain);
      const [asked] = h.sockets.last.reuploads;
      expect(asked?.key).toMatchObject({ id: 'M2', remoteJid: PEER });
      // The re-upload request is encrypted with the media key: it must come back as bytes, not base64 text.
      expect(Buffer.from(asked!.message!.imageMessage!.mediaKey!)).toEqual(file.mediaKey);
    });

    it('not connected: a plain download still works; an expired file is unavailable until the account is back', async () => {
      const file = await encrypt(Buffer.from('offline ok'));
      files.serve('/ok', 200, file.encrypted);
      files.serve('/gone', 404, Buffer.alloc(0));
      const [fresh, expired] = await receive(photo('M3', '/ok', file), photo('M4', '/gone', file));
      h.sockets.last.disconnect(428);
      await settle();
      expect(await h.connection.downloadMedia(reference(fresh!).raw)).toEqual(file.plain);
      await expect(h.connection.downloadMedia(reference(expired!).raw)).rejects.toMatchObject({ kind: 'unavailable' });
    });

    it('a text has no media, and raw that is no message has none either: permanent', async () => {
      const [text] = await receive(received('T1', { conversation: 'just words' }));
      await expect(h.connection.downloadMedia(reference(text!).raw)).rejects.toMatchObject({ kind: 'permanent' });
      await expect(h.connection.downloadMedia({ hello: 'world' })).rejects.toMatchObject({ kind: 'permanent' });
      await expect(h.connection.downloadMedia(null)).rejects.toMatchObject({ kind: 'permanent' });
    });

    it('a download that never ends: transient after the download timeout', async () => {
      const file = await encrypt(Buffer.from('never'));
      files.hang('/slow');
      const [incoming] = await receive(photo('M5', '/slow', file));
      const downloading = h.connection.downloadMedia(reference(incoming!).raw).catch((error: unknown) => error);
      await h.clock.advance(120_000);
      await expect(downloading).resolves.toEqual(new TransportError('transient', 'WhatsApp did not deliver the media in time.'));
    });
  });
});

interface EncryptedFile {
  readonly plain: Buffer;
  readonly mediaKey: Buffer;
  readonly encrypted: Buffer;
}

/** A file as WhatsApp's media servers keep it: AES-256-CBC with keys from the media key, and a 10-byte MAC. */
async function encrypt(plain: Buffer): Promise<EncryptedFile> {
  const mediaKey = Buffer.alloc(32, 9);
  const { iv, cipherKey, macKey } = await loadBaileys().getMediaKeys(mediaKey, 'image');
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  const mac = createHmac('sha256', macKey!).update(iv).update(body).digest().subarray(0, 10);
  return { plain, mediaKey, encrypted: Buffer.concat([body, mac]) };
}

interface MediaServer {
  readonly url: string;
  serve(path: string, status: number, body: Buffer): void;
  /** Answers nothing on this path, ever. */
  hang(path: string): void;
  close(): Promise<void>;
}

async function mediaServer(): Promise<MediaServer> {
  const routes = new Map<string, { status: number; body: Buffer } | 'hang'>();
  const server: Server = createServer((request, response) => {
    const route = routes.get(request.url ?? '');
    if (route === 'hang') return;
    if (!route) return void response.writeHead(500).end();
    response.writeHead(route.status).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    serve: (path, status, body) => void routes.set(path, { status, body }),
    hang: (path) => void routes.set(path, 'hang'),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
