import type { LookupFunction } from 'node:net';
import { downloadAttachment } from '../../shared/attachments/download';
import { AttachmentError } from '../../shared/attachments/errors';
import { DEFAULT_DOWNLOAD_POLICY, type DownloadPolicy } from '../../shared/attachments/types';
import { SAMPLES } from './helpers/samples';
import { closedPort, startServer, type Handler, type TestServer } from './helpers/servers';

const MiB = 1024 * 1024;
const LOCAL: DownloadPolicy = { ...DEFAULT_DOWNLOAD_POLICY, allowPrivateAddresses: true, timeoutMs: 5_000 };
const GUARDED: DownloadPolicy = { ...LOCAL, allowPrivateAddresses: false };

/** A PNG padded with zeros to `size` bytes. */
const pngOfSize = (size: number): Buffer => Buffer.concat([SAMPLES.png, Buffer.alloc(size - SAMPLES.png.length)]);

/** What the streaming server managed to write before the client hung up. */
const stream = { written: 0, finished: false, closed: Promise.resolve() };
/** Whether the server saw the connection of a response it never wrote a body for go away. */
const declared = { bodyWritten: false, closed: Promise.resolve() };
let clock = 0;

const routes: Record<string, Handler> = {
  '/png': (_q, s) => s.writeHead(200, { 'content-type': 'image/png' }).end(SAMPLES.png),
  '/png-as-text': (_q, s) => s.writeHead(200, { 'content-type': 'text/plain' }).end(SAMPLES.png),
  '/png-as-octets': (_q, s) => s.writeHead(200, { 'content-type': 'application/octet-stream' }).end(SAMPLES.png),
  '/7z': (_q, s) => s.writeHead(200, { 'content-type': 'application/x-7z-compressed' }).end(SAMPLES.unknownBinary),
  '/csv': (_q, s) => s.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('a,b\n1,2\n'),
  '/exact': (_q, s) => s.writeHead(200, { 'content-length': 2 * MiB }).end(pngOfSize(2 * MiB)),
  '/exact-chunked': (_q, s) => {
    s.writeHead(200, { 'content-type': 'application/octet-stream' });
    s.write(SAMPLES.png);
    s.end(Buffer.alloc(2 * MiB - SAMPLES.png.length));
  },
  '/one-over': (_q, s) => s.end(pngOfSize(2 * MiB + 1)), // chunked: no Content-Length
  '/sixteen-mb': (_q, s) => {
    // Writes 16 MB as fast as the client reads, without Content-Length, and records how far it got. (Loopback
    // socket buffers swallow a few MB beyond what the client read, hence far more than the 2 MB cap.)
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    stream.written = 0;
    stream.finished = false;
    stream.closed = new Promise((resolve) => s.on('close', resolve));
    s.writeHead(200, { 'content-type': 'application/octet-stream' });
    const pump = (): void => {
      while (stream.written < 16 * MiB) {
        stream.written += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end(() => (stream.finished = true));
    };
    pump();
  },
  '/declared-too-large': (_q, s) => {
    declared.bodyWritten = false;
    declared.closed = new Promise((resolve) => s.on('close', resolve));
    s.writeHead(200, { 'content-length': 3 * MiB, 'content-type': 'image/png' });
    s.flushHeaders();
    // The body would follow a second later; the client must have given up by then.
    const later = setTimeout(() => {
      declared.bodyWritten = true;
      s.end(pngOfSize(3 * MiB));
    }, 1_000);
    s.on('close', () => clearTimeout(later));
  },
  '/html-by-type': (_q, s) => s.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<p>Download'),
  '/html-by-bytes': (_q, s) =>
    s
      .writeHead(200, { 'content-type': 'application/octet-stream' })
      .end('\n<!DOCTYPE html><html><body>Click to download</body></html>'),
  '/empty': (_q, s) => s.writeHead(200, { 'content-type': 'image/png', 'content-length': 0 }).end(),
  '/hang': () => undefined,
  '/hang-body': (_q, s) => {
    s.writeHead(200, { 'content-length': 1000 });
    s.write(SAMPLES.png);
  },
  '/reset-body': (_q, s) => {
    s.writeHead(200, { 'content-length': 1000 });
    s.write(SAMPLES.png, () => setTimeout(() => s.socket?.destroy(), 20));
  },
  '/reset-before-response': (q) => q.socket.destroy(),
  '/headers': (q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(q.headers)),
  '/to-ftp': (_q, s) => s.writeHead(302, { location: 'ftp://files.example.com/a.pdf' }).end(),
  '/no-location': (_q, s) => s.writeHead(302).end(),
  '/bad-location': (_q, s) => s.writeHead(301, { location: 'http://[::1' }).end(),
  '/not-modified': (_q, s) => s.writeHead(304).end(),
};

function handle(request: Parameters<Handler>[0], response: Parameters<Handler>[1]): void {
  const url = new URL(request.url ?? '/', 'http://x');
  const redirect = /^\/redirect\/(\d+)$/.exec(url.pathname);
  if (redirect) {
    // /redirect/n answers with n redirects in a row, the last one to /png.
    const left = Number(redirect[1]);
    const location = left <= 1 ? '/png' : `/redirect/${left - 1}`;
    return void response.writeHead(left % 2 === 0 ? 302 : 307, { location }).end();
  }
  const slow = /^\/slow-redirect\/(\d+)$/.exec(url.pathname);
  if (slow) {
    clock += 20_000; // each hop "takes" 20 s on the injected clock
    return void response.writeHead(302, { location: `/slow-redirect/${Number(slow[1]) + 1}` }).end();
  }
  const status = /^\/status\/(\d+)$/.exec(url.pathname);
  if (status) return void response.writeHead(Number(status[1])).end('<h1>error page</h1>');
  const route = routes[url.pathname];
  if (route) return route(request, response);
  response.writeHead(404).end();
}

let local: TestServer;
beforeAll(async () => {
  local = await startServer(handle);
});
afterAll(() => local.close());

/** Asserts that a download fails with exactly this AttachmentError; the reason is also the message. */
async function expectFailure(
  download: Promise<unknown>,
  code: string,
  reason: string,
  retryable: boolean,
): Promise<void> {
  const error = await download.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AttachmentError);
  const { message } = error as AttachmentError;
  expect({ ...(error as AttachmentError), message }).toEqual({
    name: 'AttachmentError',
    code,
    reason,
    retryable,
    message: reason,
  });
}

describe('downloadAttachment: success', () => {
  test('downloads a file and reports where it came from', async () => {
    const file = await downloadAttachment(`${local.origin}/png`, 'photo.png', LOCAL);
    expect(file).toEqual({
      buffer: SAMPLES.png,
      mimetype: 'image/png',
      kind: 'image',
      fileName: 'photo.png',
      finalUrl: `${local.origin}/png`,
    });
  });

  test.each(['/png-as-text', '/png-as-octets'])('an image with a wrong Content-Type is an image (%s)', async (path) => {
    const file = await downloadAttachment(`${local.origin}${path}`, 'scan.pdf', LOCAL);
    expect(file).toMatchObject({ mimetype: 'image/png', kind: 'image' });
  });

  test('unrecognised bytes take a specific Content-Type and travel as a document', async () => {
    const file = await downloadAttachment(`${local.origin}/7z`, 'backup.7z', LOCAL);
    expect(file).toMatchObject({ mimetype: 'application/x-7z-compressed', kind: 'document' });
  });

  test('text served as text/plain takes its type from the file name', async () => {
    const file = await downloadAttachment(`${local.origin}/csv`, 'leads.csv', LOCAL);
    expect(file).toMatchObject({ mimetype: 'text/csv', kind: 'document' });
  });

  test.each(['/exact', '/exact-chunked'])('exactly maxBytes is accepted (%s)', async (path) => {
    const file = await downloadAttachment(`${local.origin}${path}`, 'big.png', LOCAL);
    expect(file.buffer.length).toBe(2 * MiB);
    expect(file.kind).toBe('image');
  });

  test('sends a plain User-Agent, Accept: */* and asks for no compression', async () => {
    const file = await downloadAttachment(`${local.origin}/headers`, 'h.json', LOCAL);
    const headers = JSON.parse(file.buffer.toString()) as Record<string, string>;
    expect(headers['user-agent']).toMatch(/^wahook-attachments\/\S+$/);
    expect(headers.accept).toBe('*/*');
    expect(headers['accept-encoding']).toBe('identity');
  });
});

describe('downloadAttachment: URL scheme', () => {
  const SCHEME = 'the file URL must use http:// or https://';

  test.each([
    'ftp://files.example.com/a.pdf',
    'file:///etc/passwd',
    'data:text/plain,hello',
    'javascript:alert(1)',
    'ws://example.com/',
  ])('%s is refused', async (url) => {
    await expectFailure(downloadAttachment(url, 'a', LOCAL), 'unsupported_scheme', SCHEME, false);
  });

  test.each(['not a url', '', '/relative/path', 'http://'])('%j is not a URL', async (url) => {
    await expectFailure(downloadAttachment(url, 'a', LOCAL), 'invalid_url', 'the file URL is not a valid URL', false);
  });

  test('a redirect to another scheme is refused', async () => {
    await expectFailure(downloadAttachment(`${local.origin}/to-ftp`, 'a', LOCAL), 'unsupported_scheme', SCHEME, false);
  });
});

describe('downloadAttachment: redirects', () => {
  test('3 redirects are followed', async () => {
    const file = await downloadAttachment(`${local.origin}/redirect/3`, 'p.png', LOCAL);
    expect(file.finalUrl).toBe(`${local.origin}/png`);
    expect(file.kind).toBe('image');
  });

  test('a 4th redirect is refused', async () => {
    await expectFailure(
      downloadAttachment(`${local.origin}/redirect/4`, 'p.png', LOCAL),
      'too_many_redirects',
      'the file URL redirected more than 3 times',
      false,
    );
  });

  test('the limit comes from the policy', async () => {
    const download = downloadAttachment(`${local.origin}/redirect/1`, 'p', { ...LOCAL, maxRedirects: 0 });
    await expect(download).rejects.toMatchObject({ reason: 'the file URL redirected more than 0 times' });
  });

  test.each([
    ['/no-location', 302],
    ['/bad-location', 301],
  ])('a redirect without a usable Location is refused (%s)', async (path, status) => {
    await expectFailure(
      downloadAttachment(`${local.origin}${path}`, 'a', LOCAL),
      'bad_redirect',
      `the file URL answered HTTP ${status} without a valid redirect location`,
      false,
    );
  });
});

describe('downloadAttachment: size cap', () => {
  test('a body one byte over the cap without Content-Length is refused', async () => {
    await expectFailure(
      downloadAttachment(`${local.origin}/one-over`, 'p.png', LOCAL),
      'too_large',
      'the file is larger than 2 MB',
      false,
    );
  });

  test('a stream is aborted as soon as it passes the cap, not read to its end', async () => {
    await expectFailure(
      downloadAttachment(`${local.origin}/sixteen-mb`, 'f', LOCAL),
      'too_large',
      'the file is larger than 2 MB',
      false,
    );
    await stream.closed;
    expect(stream.finished).toBe(false);
    expect(stream.written).toBeLessThan(16 * MiB);
  });

  test('a Content-Length over the cap is refused before the body is read', async () => {
    const started = Date.now();
    await expectFailure(
      downloadAttachment(`${local.origin}/declared-too-large`, 'f', LOCAL),
      'too_large',
      'the file is larger than 2 MB',
      false,
    );
    await declared.closed;
    expect(declared.bodyWritten).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('the reason states the policy limit', async () => {
    const capped = (maxBytes: number) => downloadAttachment(`${local.origin}/exact`, 'f', { ...LOCAL, maxBytes });
    await expect(capped(MiB)).rejects.toMatchObject({ reason: 'the file is larger than 1 MB' });
    await expect(capped(1.5 * MiB)).rejects.toMatchObject({ reason: 'the file is larger than 1.5 MB' });
  });
});

describe('downloadAttachment: web pages and empty files', () => {
  const WEB_PAGE = 'the URL returned a web page, not a file: use a direct download link';

  test('a text/html response is refused', async () => {
    const download = downloadAttachment(`${local.origin}/html-by-type`, 'doc.pdf', LOCAL);
    await expectFailure(download, 'web_page', WEB_PAGE, false);
  });

  test('an HTML page served as application/octet-stream is refused', async () => {
    const download = downloadAttachment(`${local.origin}/html-by-bytes`, 'doc.pdf', LOCAL);
    await expectFailure(download, 'web_page', WEB_PAGE, false);
  });

  test('an empty body is refused', async () => {
    await expectFailure(
      downloadAttachment(`${local.origin}/empty`, 'p.png', LOCAL),
      'empty_file',
      'the file URL returned an empty file',
      false,
    );
  });
});

describe('downloadAttachment: HTTP errors', () => {
  test.each([
    [404, 'Not Found', false],
    [403, 'Forbidden', false],
    [410, 'Gone', false],
    [429, 'Too Many Requests', true],
    [500, 'Internal Server Error', true],
    [502, 'Bad Gateway', true],
    [503, 'Service Unavailable', true],
  ])('HTTP %i', async (status, text, retryable) => {
    await expectFailure(
      downloadAttachment(`${local.origin}/status/${status}`, 'a', LOCAL),
      'http_error',
      `the file URL answered HTTP ${status} ${text}`,
      retryable,
    );
  });

  test('a 3xx that is not a redirect is not a file', async () => {
    await expectFailure(
      downloadAttachment(`${local.origin}/not-modified`, 'a', LOCAL),
      'http_error',
      'the file URL answered HTTP 304 Not Modified',
      false,
    );
  });
});

describe('downloadAttachment: timeouts and broken connections', () => {
  const QUICK: DownloadPolicy = { ...LOCAL, timeoutMs: 300 };

  test('a server that never answers times out', async () => {
    const started = Date.now();
    await expectFailure(
      downloadAttachment(`${local.origin}/hang`, 'a', QUICK),
      'timeout',
      'the file download took longer than 0.3 s',
      true,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test('a body that stops arriving times out', async () => {
    await expectFailure(
      downloadAttachment(`${local.origin}/hang-body`, 'a', QUICK),
      'timeout',
      'the file download took longer than 0.3 s',
      true,
    );
  });

  test('the deadline covers all redirects together', async () => {
    clock = 0;
    const policy = { ...LOCAL, timeoutMs: 30_000, maxRedirects: 5 };
    const download = downloadAttachment(`${local.origin}/slow-redirect/0`, 'a', policy, { now: () => clock });
    await expectFailure(download, 'timeout', 'the file download took longer than 30 s', true);
    // Hops 1 and 2 "took" 20 s each; the third was never started.
    const hops = local.paths.filter((path) => path.startsWith('/slow-redirect/'));
    expect(hops).toEqual(['/slow-redirect/0', '/slow-redirect/1']);
  });

  test('a connection refused is unreachable, not retryable', async () => {
    const port = await closedPort();
    await expectFailure(
      downloadAttachment(`http://127.0.0.1:${port}/a.pdf`, 'a.pdf', LOCAL),
      'unreachable',
      'the file URL could not be reached (ECONNREFUSED)',
      false,
    );
  });

  test('an unknown host is unreachable', async () => {
    const notFound: LookupFunction = (_hostname, _options, callback) =>
      callback(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), '');
    await expectFailure(
      downloadAttachment('http://no-such-host.test/a.pdf', 'a.pdf', LOCAL, { lookup: notFound }),
      'unreachable',
      'the file URL could not be reached (ENOTFOUND)',
      false,
    );
  });

  test('a connection reset before the response is retryable', async () => {
    await expectFailure(
      downloadAttachment(`${local.origin}/reset-before-response`, 'a', LOCAL),
      'unreachable',
      'the file URL could not be reached (ECONNRESET)',
      true,
    );
  });

  test('a connection reset in the middle of the body is retryable', async () => {
    await expectFailure(
      downloadAttachment(`${local.origin}/reset-body`, 'a', LOCAL),
      'interrupted',
      'the file download was interrupted (ECONNRESET)',
      true,
    );
  });
});

describe('downloadAttachment: private addresses', () => {
  const PRIVATE = (address: string): string =>
    `the file URL points to a private or local address (${address}), which this workspace does not allow`;
  /** Resolves every name to loopback, as a rebinding attacker's DNS would. */
  const toLoopback: LookupFunction = (_hostname, options, callback) =>
    options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);

  /** A second server on 127.0.0.2 that the tests treat as public (a test host has no public address). */
  let publicServer: TestServer;
  /** Listens on 127.0.0.1 at the public server's port, to catch a connection that should never happen. */
  let trap: TestServer;
  const treatAsPublic = (address: string): boolean => address === '127.0.0.2';
  const asPublic = (lookup?: LookupFunction) => ({ isPublicAddress: treatAsPublic, ...(lookup ? { lookup } : {}) });

  beforeAll(async () => {
    publicServer = await startServer(
      (request, response) => {
        const target = new URL(request.url ?? '/', 'http://x').searchParams.get('to');
        if (target) response.writeHead(302, { location: target }).end();
        else response.writeHead(200, { 'content-type': 'image/png' }).end(SAMPLES.png);
      },
      { host: '127.0.0.2' },
    );
    trap = await startServer((_request, response) => response.end('private bytes'), { port: publicServer.port });
  });
  afterAll(async () => {
    await publicServer.close();
    await trap.close();
  });

  test.each([
    ['http://127.0.0.1:1/a.png', '127.0.0.1'],
    ['http://[::1]:1/a.png', '::1'],
    ['http://[::ffff:127.0.0.1]:1/a.png', '::ffff:7f00:1'],
    ['http://0x7f.1:1/a.png', '127.0.0.1'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://10.0.0.1/a.png', '10.0.0.1'],
  ])('an IP-literal URL is refused before connecting: %s', async (url, shown) => {
    await expectFailure(downloadAttachment(url, 'a.png', GUARDED), 'private_address', PRIVATE(shown), false);
  });

  test('a hostname resolving to loopback is refused (lookup path)', async () => {
    const before = local.paths.length;
    const url = `http://files.rebind.test:${local.port}/png`;
    const download = downloadAttachment(url, 'a.png', GUARDED, { lookup: toLoopback });
    await expectFailure(download, 'private_address', PRIVATE('127.0.0.1'), false);
    expect(local.paths.length).toBe(before);
  });

  test('the same hostname is fine when the workspace allows private addresses', async () => {
    const url = `http://files.rebind.test:${local.port}/png`;
    const file = await downloadAttachment(url, 'a.png', LOCAL, { lookup: toLoopback });
    expect(file.kind).toBe('image');
  });

  test('the allowed server itself can be downloaded from', async () => {
    const file = await downloadAttachment(`${publicServer.origin}/file.png`, 'a.png', GUARDED, asPublic());
    expect(file.finalUrl).toBe(`${publicServer.origin}/file.png`);
  });

  test('a redirect from an allowed host to a private IP literal is refused', async () => {
    const before = local.paths.length;
    const url = `${publicServer.origin}/?to=${encodeURIComponent(`${local.origin}/png`)}`;
    const download = downloadAttachment(url, 'a.png', GUARDED, asPublic());
    await expectFailure(download, 'private_address', PRIVATE('127.0.0.1'), false);
    expect(local.paths.length).toBe(before);
  });

  test('a redirect from an allowed host to a name resolving to a private address is refused', async () => {
    const before = local.paths.length;
    const lookup: LookupFunction = (hostname, options, callback) => {
      const address = hostname === 'cdn.public.test' ? '127.0.0.2' : '127.0.0.1';
      return options.all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4);
    };
    const to = encodeURIComponent(`http://internal.test:${local.port}/png`);
    const url = `http://cdn.public.test:${publicServer.port}/?to=${to}`;
    const download = downloadAttachment(url, 'a.png', GUARDED, asPublic(lookup));
    await expectFailure(download, 'private_address', PRIVATE('127.0.0.1'), false);
    expect(local.paths.length).toBe(before);
  });

  test('DNS rebinding between two hops of the same host is caught on the second resolution', async () => {
    const answers = ['127.0.0.2', '127.0.0.1'];
    const flipping: LookupFunction = (_hostname, options, callback) => {
      const address = answers.shift() ?? '127.0.0.1';
      return options.all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4);
    };
    const to = encodeURIComponent(`http://flip.test:${publicServer.port}/file.png`);
    const url = `http://flip.test:${publicServer.port}/?to=${to}`;
    const download = downloadAttachment(url, 'a.png', GUARDED, asPublic(flipping));
    await expectFailure(download, 'private_address', PRIVATE('127.0.0.1'), false);
    expect(trap.paths).toEqual([]);
  });

  test('of several resolved addresses only the allowed ones are connected to', async () => {
    const mixed: LookupFunction = (_hostname, options, callback) => {
      const all = [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ];
      return options.all ? callback(null, all) : callback(null, all[0]!.address, 4);
    };
    const url = `http://mixed.test:${publicServer.port}/file.png`;
    const file = await downloadAttachment(url, 'a.png', GUARDED, asPublic(mixed));
    expect(file.kind).toBe('image');
    expect(trap.paths).toEqual([]);
  });
});
