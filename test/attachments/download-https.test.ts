import tls from 'node:tls';
import { downloadAttachment } from '../../shared/attachments/download';
import { DEFAULT_DOWNLOAD_POLICY, type DownloadPolicy } from '../../shared/attachments/types';
import { SAMPLES } from './helpers/samples';
import { selfSignedCertificate } from './helpers/self-signed';
import { startServer, type TestServer } from './helpers/servers';

const LOCAL: DownloadPolicy = { ...DEFAULT_DOWNLOAD_POLICY, allowPrivateAddresses: true, timeoutMs: 5_000 };
const certificate = selfSignedCertificate();

let secure: TestServer;
let plain: TestServer;
beforeAll(async () => {
  plain = await startServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'image/png' }).end(SAMPLES.png);
  });
  secure = await startServer(
    (request, response) => {
      const target = new URL(request.url ?? '/', 'https://x').searchParams.get('to');
      if (target) response.writeHead(301, { location: target }).end();
      else response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(SAMPLES.jpeg);
    },
    { tls: certificate },
  );
});
afterAll(async () => {
  await secure.close();
  await plain.close();
});

test('an untrusted certificate makes the URL unreachable, naming the TLS error', async () => {
  await expect(downloadAttachment(`${secure.origin}/photo`, 'photo.jpg', LOCAL)).rejects.toMatchObject({
    code: 'unreachable',
    reason: 'the file URL could not be reached (DEPTH_ZERO_SELF_SIGNED_CERT)',
    retryable: false,
  });
});

test('https URLs are subject to the private-address guard too', async () => {
  await expect(
    downloadAttachment(`${secure.origin}/photo`, 'photo.jpg', { ...LOCAL, allowPrivateAddresses: false }),
  ).rejects.toMatchObject({ code: 'private_address' });
});

// tls.setDefaultCACertificates (Node >= 22.15; tests run on Node 24) lets the test trust its own certificate.
describe('with the test certificate trusted', () => {
  let saved: string[];
  beforeAll(() => {
    saved = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...saved, certificate.cert]);
  });
  afterAll(() => tls.setDefaultCACertificates(saved));

  test('downloads over https', async () => {
    const file = await downloadAttachment(`${secure.origin}/photo`, 'photo.jpg', LOCAL);
    expect(file).toEqual({
      buffer: SAMPLES.jpeg,
      mimetype: 'image/jpeg',
      kind: 'image',
      fileName: 'photo.jpg',
      finalUrl: `${secure.origin}/photo`,
    });
  });

  test('follows a redirect from https to http', async () => {
    const url = `${secure.origin}/?to=${encodeURIComponent(`${plain.origin}/p.png`)}`;
    const file = await downloadAttachment(url, 'p.png', LOCAL);
    expect(file).toMatchObject({ mimetype: 'image/png', finalUrl: `${plain.origin}/p.png` });
  });

  test('follows a redirect from https to https, relative Location included', async () => {
    const file = await downloadAttachment(`${secure.origin}/?to=/photo`, 'photo.jpg', LOCAL);
    expect(file.finalUrl).toBe(`${secure.origin}/photo`);
  });
});
