import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from '../../shared/attachments/address-guard';
import { assertHostAllowed, guardLookup, guardSocket } from '../../shared/attachments/connection-guard';
import { AttachmentError } from '../../shared/attachments/errors';
import { selfSignedCertificate } from './helpers/self-signed';
import { startServer, type TestServer } from './helpers/servers';


/** A resolver answering from a table, in the `all: true` form. */
const tableResolver =
  (table: Record<string, LookupAddress[]>): LookupFunction =>
  (hostname, _options, callback) => {
    const answer = table[hostname];
    if (answer === undefined) callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), '');
    else callback(null, answer);
  };

function lookupWith(lookup: LookupFunction, hostname: string, options: LookupOptions) {
  return new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>(
    (resolve) => lookup(hostname, options, (error, address, family) => resolve({ error, address, family })),
  );
}

describe('guardLookup', () => {
  const resolver = tableResolver({
    'mixed.test': [
      { address: '127.0.0.1', family: 4 },
      { address: '198.51.100.1', family: 4 },
      { address: '2001:db8::1', family: 6 },
    ],
    'private.test': [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ],
    'empty.test': [],
  });
  const allowed = (address: string): boolean => address === '198.51.100.1' || address === '2001:db8::1';

  test('passes on only the allowed addresses (all: true)', async () => {
    const result = await lookupWith(guardLookup(resolver, allowed), 'mixed.test', { all: true });
    expect(result.error).toBeNull();
    expect(result.address).toEqual([
      { address: '198.51.100.1', family: 4 },
      { address: '2001:db8::1', family: 6 },
    ]);
  });

  test('answers with the first allowed address when one is asked for', async () => {
    const result = await lookupWith(guardLookup(resolver, allowed), 'mixed.test', {});
    expect(result).toEqual({ error: null, address: '198.51.100.1', family: 4 });
  });

  test('accepts resolvers that answer with a single address', async () => {
    const single: LookupFunction = (_hostname, _options, callback) => callback(null, '10.0.0.7', 4);
    const result = await lookupWith(guardLookup(single, () => false), 'single.test', { all: true });
    expect(result.error).toMatchObject({ code: 'private_address', reason: expect.stringContaining('(10.0.0.7)') });
  });

  test('refuses a hostname whose every address is refused, naming the first', async () => {
    const result = await lookupWith(guardLookup(resolver, allowed), 'private.test', { all: true });
    expect(result.error).toBeInstanceOf(AttachmentError);
    expect(result.error).toMatchObject({
      code: 'private_address',
      reason: 'the file URL points to a private or local address (127.0.0.1), which this workspace does not allow',
      retryable: false,
    });
  });

  test('passes resolver errors through', async () => {
    const result = await lookupWith(guardLookup(resolver, allowed), 'unknown.test', { all: true });
    expect(result.error).toMatchObject({ code: 'ENOTFOUND' });
  });

  test('an empty answer is "not found"', async () => {
    const result = await lookupWith(guardLookup(resolver, allowed), 'empty.test', { all: true });
    expect(result.error).toMatchObject({ code: 'unreachable', reason: 'the file URL could not be reached (ENOTFOUND)' });
  });
});

describe('assertHostAllowed', () => {
  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['169.254.169.254', '169.254.169.254'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1'],
  ])('refuses the literal %s', (hostname, shown) => {
    expect(() => assertHostAllowed(hostname, isPublicAddress)).toThrow(
      `the file URL points to a private or local address (${shown}), which this workspace does not allow`,
    );
  });

  test.each(['8.8.8.8', '[2606:4700::1111]', 'example.com', 'localhost'])('lets %s through', (hostname) => {
    // Hostnames are checked once resolved, by guardLookup.
    expect(() => assertHostAllowed(hostname, isPublicAddress)).not.toThrow();
  });
});

describe('guardSocket', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((_request, response) => response.end('ok'));
  });
  afterAll(() => server.close());

  const get = (allowed: (address: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const request = http.get(`${server.origin}/guarded`, { agent: false }, (response) => {
        response.resume();
        response.on('end', () => resolve(String(response.statusCode)));
      });
      guardSocket(request, allowed);
      request.on('error', reject);
    });

  test('destroys the request when the connected address is refused', async () => {
    const seen: string[] = [];
    const refuse = (address: string): boolean => {
      seen.push(address);
      return false;
    };
    await expect(get(refuse)).rejects.toMatchObject({
      code: 'private_address',
      reason: 'the file URL points to a private or local address (127.0.0.1), which this workspace does not allow',
    });
    expect(seen).toEqual(['127.0.0.1']);
  });

  test('leaves an allowed connection alone', async () => {
    await expect(get(() => true)).resolves.toBe('200');
  });

  test('checks TLS sockets too', async () => {
    const secure = await startServer((_request, response) => response.end('ok'), { tls: selfSignedCertificate() });
    const outcome = new Promise<unknown>((resolve) => {
      const request = https.get(`${secure.origin}/`, { agent: false, rejectUnauthorized: false }, (response) => {
        response.resume();
        response.on('end', () => resolve('downloaded'));
      });
      guardSocket(request, () => false);
      request.on('error', resolve);
    });
    await expect(outcome).resolves.toMatchObject({ code: 'private_address' });
    await secure.close();
  });
});
