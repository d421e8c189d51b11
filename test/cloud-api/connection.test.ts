import type { AccountState } from '../../shared/model';
import { CloudApiConnection, NO_SETTINGS_SENTENCE } from '../../shared/transport/cloud-api/connection';
import { TOKEN_SENTENCE } from '../../shared/transport/cloud-api/errors';
import { FakeGraphApi } from '../support/fake-graph-api';
import { until } from '../support/fake-transport';

describe('CloudApiConnection', () => {
  let graph: FakeGraphApi;
  beforeEach(async () => {
    graph = await new FakeGraphApi().start();
  });
  afterEach(() => graph.close());

  it('is connecting until the number answers, then open with its phone and name', async () => {
    const connection = new CloudApiConnection('c1', null, graph.settings());
    const states: AccountState[] = [];
    connection.onStateChange((state) => states.push(state));
    expect(connection.state).toBe('connecting');
    expect(connection.isReady()).toBe(false);
    await connection.start();
    expect(connection.state).toBe('open');
    expect(states).toEqual(['open']);
    expect(connection.phone).toBe('15550100000');
    expect(connection.name).toBe('Test Shop');
    expect(await connection.resolvePhone('14151231234')).toEqual({ onWhatsApp: true, jid: '14151231234@s.whatsapp.net' });
    await connection.close();
  });

  it('sends and answers wamids; a reply quotes the received message', async () => {
    const connection = new CloudApiConnection('c1', null, graph.settings());
    await connection.start();
    expect(await connection.sendText('14151231234@s.whatsapp.net', 'hi', 'ours1')).toMatch(/^wamid\./);
    const quoted = { id: 'wamid.theirs', chatJid: '14151231234@s.whatsapp.net', senderJid: null, fromMe: false, raw: {} };
    const media = { kind: 'document' as const, buffer: Buffer.from('pdf'), mimetype: 'application/pdf', fileName: 'a.pdf' };
    expect(await connection.sendMedia('14151231234@s.whatsapp.net', media, 'ours2', { quoted })).toMatch(/^wamid\./);
    expect(graph.sends[1]).toMatchObject({ type: 'document', document: { filename: 'a.pdf' }, context: { message_id: 'wamid.theirs' } });
    await connection.close();
  });

  it('an expired token pauses it with the sentence; a new check reopens it', async () => {
    graph.tokenExpired = true;
    const connection = new CloudApiConnection('c1', null, graph.settings());
    await connection.start();
    expect(connection.state).toBe('paused');
    expect(connection.connectionInfo()).toEqual({ detail: TOKEN_SENTENCE, pausedUntil: null, pauseReason: TOKEN_SENTENCE });
    graph.tokenExpired = false;
    connection.reconnect();
    await until(() => connection.state === 'open');
    graph.tokenExpired = true;
    await expect(connection.sendText('14151231234@s.whatsapp.net', 'x', 'm')).rejects.toMatchObject({ kind: 'unavailable', reason: TOKEN_SENTENCE });
    expect(connection.state).toBe('paused');
    await connection.close();
  });

  it('without settings it is paused and says so', async () => {
    const connection = new CloudApiConnection('c1', null, undefined);
    await connection.start();
    expect(connection.state).toBe('paused');
    expect(connection.connectionInfo().detail).toBe(NO_SETTINGS_SENTENCE);
    await expect(connection.sendText('1@s.whatsapp.net', 'x', 'm')).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('marks received messages read and downloads their media by id', async () => {
    const connection = new CloudApiConnection('c1', null, graph.settings());
    await connection.start();
    await connection.markRead([{ id: 'wamid.in1', chatJid: '14151231234@s.whatsapp.net', senderJid: null, fromMe: false, raw: {} }]);
    expect(graph.markedRead).toEqual(['wamid.in1']);
    graph.media.set('media.77', { bytes: Buffer.from('JPEGDATA'), mimetype: 'image/jpeg' });
    expect((await connection.downloadMedia({ type: 'image', image: { id: 'media.77', mime_type: 'image/jpeg' } })).toString()).toBe('JPEGDATA');
    await expect(connection.downloadMedia({ type: 'text', text: { body: 'x' } })).rejects.toMatchObject({ kind: 'permanent' });
    await connection.close();
  });
});
