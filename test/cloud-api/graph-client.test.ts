import { TransportError } from '../../shared/transport/types';
import { GraphClient } from '../../shared/transport/cloud-api/graph-client';
import { OUTSIDE_WINDOW_SENTENCE, TOKEN_SENTENCE } from '../../shared/transport/cloud-api/errors';
import { FakeGraphApi, graphErrorBody } from '../support/fake-graph-api';

describe('GraphClient', () => {
  let graph: FakeGraphApi;
  let client: GraphClient;
  beforeEach(async () => {
    graph = await new FakeGraphApi().start();
    client = new GraphClient({ phoneNumberId: graph.phoneNumberId, accessToken: graph.accessToken, baseUrl: graph.baseUrl, version: graph.version });
  });
  afterEach(() => graph.close());

  const failure = async (promise: Promise<unknown>): Promise<TransportError> => {
    try {
      await promise;
    } catch (error) {
      if (error instanceof TransportError) return error;
      throw error;
    }
    throw new Error('expected a TransportError');
  };

  it('sends text as documented and answers the wamid', async () => {
    const sent = await client.sendText('+1 415 123 1234', 'hello');
    expect(sent.id).toMatch(/^wamid\./);
    const [request] = graph.requests;
    expect(request).toMatchObject({ method: 'POST', path: `/v21.0/${graph.phoneNumberId}/messages`, authorization: `Bearer ${graph.accessToken}` });
    expect(request!.body).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'text', text: { body: 'hello' } });
  });

  it('replies in thread with context.message_id', async () => {
    await client.sendText('14151231234', 'yes', 'wamid.theirs');
    expect(graph.sends[0]).toMatchObject({ context: { message_id: 'wamid.theirs' }, type: 'text' });
  });

  it('uploads media as multipart and sends it by id; a document carries its file name', async () => {
    const mediaId = await client.uploadMedia(Buffer.from('%PDF-1.4 test'), 'application/pdf', 'a.pdf');
    expect(mediaId).toMatch(/^media\./);
    const upload = graph.requests[0]!;
    expect(upload.path).toBe(`/v21.0/${graph.phoneNumberId}/media`);
    expect(upload.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload.body).toMatchObject({ messaging_product: 'whatsapp', type: 'application/pdf', file: { name: 'a.pdf', type: 'application/pdf', size: 13 } });
    await client.sendMedia('14151231234', 'document', mediaId, 'a.pdf');
    await client.sendMedia('14151231234', 'image', mediaId, 'p.jpg', 'wamid.q');
    expect(graph.sends).toEqual([
      { messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'document', document: { id: mediaId, filename: 'a.pdf' } },
      { messaging_product: 'whatsapp', recipient_type: 'individual', to: '14151231234', type: 'image', image: { id: mediaId }, context: { message_id: 'wamid.q' } },
    ]);
  });

  it('checks the number', async () => {
    expect(await client.checkNumber()).toEqual({ displayPhoneNumber: '+1 555-010-0000', verifiedName: 'Test Shop' });
    expect(graph.requests[0]).toMatchObject({ method: 'GET', path: `/v21.0/${graph.phoneNumberId}` });
    expect(graph.requests[0]!.query.get('fields')).toBe('display_phone_number,verified_name');
  });

  it('turns documented error answers into TransportErrors', async () => {
    graph.outsideWindow.add('14151231234');
    expect(await failure(client.sendText('14151231234', 'late'))).toMatchObject({ kind: 'permanent', reason: OUTSIDE_WINDOW_SENTENCE });
    graph.nextErrors.push({ status: 400, body: graphErrorBody(130429, 'Rate limit hit', 'Cloud API message throughput has been reached.') });
    expect((await failure(client.sendText('14151231234', 'x'))).kind).toBe('throttled');
    graph.nextErrors.push({ status: 503, body: 'down' });
    expect((await failure(client.sendText('14151231234', 'x'))).kind).toBe('transient');
    graph.tokenExpired = true;
    expect(await failure(client.checkNumber())).toMatchObject({ kind: 'unavailable', reason: TOKEN_SENTENCE });
    const wrongToken = new GraphClient({ phoneNumberId: graph.phoneNumberId, accessToken: 'wrong', baseUrl: graph.baseUrl, version: graph.version });
    expect((await failure(wrongToken.sendText('14151231234', 'x'))).kind).toBe('unavailable');
  });

  it('a refused parameter names it (the fake checks shapes as documented)', async () => {
    const error = await failure(client.sendText('12', 'x'));
    expect(error).toMatchObject({ kind: 'permanent', reason: 'The WhatsApp Cloud API refused a parameter: Param to must be the phone number in digits.' });
  });

  it('a network error or a timeout is transient', async () => {
    const closed = new GraphClient({ phoneNumberId: '1', accessToken: 't', baseUrl: 'http://127.0.0.1:9' });
    expect(await failure(closed.sendText('14151231234', 'x'))).toMatchObject({ kind: 'transient' });
    const slow = new GraphClient({
      phoneNumberId: '1',
      accessToken: 't',
      timeoutMs: 20,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error))),
    });
    expect(await failure(slow.sendText('14151231234', 'x'))).toMatchObject({ kind: 'transient', reason: 'The WhatsApp Cloud API did not answer in time; sending tries again later.' });
  });
});
