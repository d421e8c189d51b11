/**
 * Fuzz cases for `/metrics` and `/healthz` on the core's own server (standalone `serve`, n8n's Dedicated
 * Port), generated with fast-check from a fixed seed: every method, scrape tokens right, wrong, garbled or
 * repeated in the Authorization header and the query, malformed query strings, long, many and non-ASCII
 * headers, bodies, chunked and short framing, and some protocol garbage. Each case carries the one status
 * the rules give it (hosting/metrics-endpoints.ts, restated here as a model), and every answer is checked
 * for that status and for its shape: Prometheus text that parses, or JSON, never a page or the server's insides.
 */
import fc from 'fast-check';
import { METRIC_FAMILY_COUNT, readScrape } from '../../support/prometheus';
import { printable, type Outcome } from './raw-http';

const CRLF = '\r\n';
const LEAK = /(\n\s*at\s|\bat\s+[\w$.<>[\]]+\s+\(|node_modules|\b[\w-]+\.(?:ts|js):\d+|\b(?:TypeError|RangeError|URIError|SyntaxError|ERR_[A-Z_]+|HPE_[A-Z_]+)\b)/;

export interface EndpointCase {
  readonly family: string;
  readonly label: string;
  readonly bytes: Buffer;
  readonly head: boolean;
  readonly halfClose: boolean;
  /** The one status the rules give it. */
  readonly status: number;
  /** The path the answer is for (its body's shape depends on it). */
  readonly endpoint: 'metrics' | 'healthz' | 'other';
}

type Auth = { readonly family: string; readonly header?: string; readonly query?: string };

/** The scrape token as the server knows it, and what a request sends for it. */
function auths(token: string): fc.Arbitrary<Auth> {
  const visible = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=!$*'.split('')), minLength: 1, maxLength: 80 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<Auth>({ family: 'auth:none' }) },
    { weight: 4, arbitrary: fc.constantFrom('Bearer', 'bearer', 'BEARER').map((scheme) => ({ family: 'auth:bearer-right', header: `${scheme} ${token}` })) },
    { weight: 2, arbitrary: fc.constant<Auth>({ family: 'auth:bearer-right-spaced', header: `  Bearer    ${token}  ` }) },
    { weight: 3, arbitrary: fc.constant<Auth>({ family: 'auth:query-right', query: `token=${encodeURIComponent(token)}` }) },
    { weight: 3, arbitrary: visible.map((wrong) => ({ family: 'auth:bearer-wrong', header: `Bearer ${wrong}` })) },
    { weight: 2, arbitrary: visible.map((wrong) => ({ family: 'auth:query-wrong', query: `token=${encodeURIComponent(wrong)}` })) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:bearer-prefix', header: `Bearer ${token.slice(0, -1)}` }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:bearer-longer', header: `Bearer ${token}0` }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:bearer-two-words', header: `Bearer ${token} ${token}` }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:basic', header: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:empty-bearer', header: 'Bearer ' }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:bad-header-right-query', header: 'Token nope', query: `token=${encodeURIComponent(token)}` }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:right-header-wrong-query', header: `Bearer ${token}`, query: 'token=wrong-wrong-wrong-wrong' }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:query-twice', query: `token=${encodeURIComponent(token)}&token=wrong` }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:query-twice-wrong-first', query: `token=wrong&token=${encodeURIComponent(token)}` }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:query-percent', query: 'token=%' }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:query-bad-percent', query: 'token=%E0%A4%A&%zz' }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ family: 'auth:query-empty', query: 'token=' }) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 4000 }).map((n) => ({ family: 'auth:bearer-huge', header: `Bearer ${'t'.repeat(n)}` })) },
  );
}

/** Whether the rules let the request in, as hosting/metrics-endpoints.ts presentedScrapeToken and checkScrape read it. */
function letIn(auth: Auth, token: string | undefined): boolean {
  if (token === undefined) return true; // loopback callers, which these are
  const bearer = /^\s*bearer\s+(\S+)\s*$/i.exec(auth.header ?? '');
  if (bearer) return bearer[1] === token;
  if (auth.query === undefined) return false;
  const presented = new URLSearchParams(auth.query).get('token');
  return presented !== null && presented !== '' && presented === token;
}

const METHODS = fc.oneof(
  { weight: 8, arbitrary: fc.constant('GET') },
  { weight: 4, arbitrary: fc.constantFrom('POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'PROPFIND') },
);

interface Extra {
  readonly family: string;
  readonly lines: readonly string[];
}
const EXTRAS: fc.Arbitrary<Extra> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Extra>({ family: 'headers:plain', lines: [] }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 6000 }).map((n) => ({ family: 'headers:long', lines: [`X-Pad: ${'p'.repeat(n)}`] })) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 90 }).map((n) => ({ family: 'headers:many', lines: Array.from({ length: n }, (_, i) => `X-H${i}: ${i}`) })) },
  { weight: 1, arbitrary: fc.constant<Extra>({ family: 'headers:latin1', lines: ['X-Name: caf\u00e9 \u00ff\u00e0'] }) },
  { weight: 1, arbitrary: fc.constant<Extra>({ family: 'headers:accept-openmetrics', lines: ['Accept: application/openmetrics-text; version=1.0.0'] }) },
  { weight: 1, arbitrary: fc.constant<Extra>({ family: 'headers:no-host', lines: ['X-No-Host: 1'] }) },
);

type Body = { readonly family: string; readonly lines: readonly string[]; readonly body: Buffer; readonly halfClose: boolean };
const BODIES: fc.Arbitrary<Body> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Body>({ family: 'body:none', lines: [], body: Buffer.alloc(0), halfClose: false }) },
  {
    weight: 2,
    arbitrary: fc.string({ maxLength: 300 }).map((text) => {
      const body = Buffer.from(text, 'utf8');
      return { family: 'body:sized', lines: [`Content-Length: ${body.length}`], body, halfClose: false };
    }),
  },
  { weight: 1, arbitrary: fc.constant<Body>({ family: 'body:chunked', lines: ['Transfer-Encoding: chunked'], body: Buffer.from(`5${CRLF}hello${CRLF}0${CRLF}${CRLF}`), halfClose: false }) },
  { weight: 1, arbitrary: fc.constant<Body>({ family: 'body:short', lines: ['Content-Length: 100000'], body: Buffer.from('{"a":'), halfClose: true }) },
  { weight: 1, arbitrary: fc.constant<Body>({ family: 'body:large', lines: ['Content-Length: 400000'], body: Buffer.alloc(400_000, 0x61), halfClose: false }) },
);

const QUERY_NOISE = fc.constantFrom('', '', '', 'x=1', '%zz', 'a=%E0%A4%A', '&&&', '=', 'token', 'x=' + 'q'.repeat(2000));
const PATHS = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('/metrics', '/healthz') },
  { weight: 1, arbitrary: fc.constantFrom('/metrics/', '/Metrics', '/healthz.json', '/metrics#x', '//metrics', '/metrics%20', '/healthz;x') },
);

/** `count` requests for a server whose scrape token is `token` (undefined: none set; the caller is loopback). */
export function endpointCases(token: string | undefined, seed: number, count: number): EndpointCase[] {
  const arbitrary = fc.record({ method: METHODS, path: PATHS, auth: auths(token ?? 'no-token-is-set-0000'), noise: QUERY_NOISE, extra: EXTRAS, body: BODIES });
  return fc.sample(arbitrary, { seed, numRuns: count }).map(({ method, path, auth, noise, extra, body }) => {
    const query = [auth.query, noise].filter((part) => part !== undefined && part !== '').join('&');
    const target = query === '' ? path : `${path}?${query}`;
    const lines = [
      `${method} ${target} HTTP/1.1`,
      ...(extra.family === 'headers:no-host' ? [] : ['Host: 127.0.0.1']),
      ...(auth.header === undefined ? [] : [`Authorization: ${auth.header}`]),
      ...extra.lines,
      ...body.lines,
      '',
      '',
    ];
    const endpoint = path === '/metrics' ? 'metrics' : path === '/healthz' ? 'healthz' : 'other';
    // Noise after the token in the query never changes which token is read (the first `token=`), nor the path.
    const status = endpoint === 'other' ? 404 : !letIn({ ...auth, ...(query === '' ? {} : { query }) }, token) ? 401 : method === 'GET' ? 200 : 405;
    return {
      family: [auth.family, `method:${method}`, extra.family, body.family, endpoint === 'other' ? 'path:near-miss' : `path:${endpoint}`].join(' | '),
      label: `${method} ${printable(Buffer.from(target, 'latin1'), 80)} (${auth.family}, ${extra.family}, ${body.family})`,
      bytes: Buffer.concat([Buffer.from(lines.join(CRLF), 'latin1'), body.body]),
      head: method === 'HEAD',
      halfClose: body.halfClose,
      status,
      endpoint,
    };
  });
}

/** Requests to these paths that Node's parser refuses before any handler: the contract's JSON 400 each. */
export function endpointGarbage(token: string): EndpointCase[] {
  const garbage = (label: string, text: string): EndpointCase => ({
    family: 'garbage',
    label,
    bytes: Buffer.from(text, 'latin1'),
    head: false,
    halfClose: false,
    status: 400,
    endpoint: 'other',
  });
  return [
    garbage('NUL in the Authorization header', `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\u0000\r\n\r\n`),
    garbage('CR alone in a header', `GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\rb\r\n\r\n`),
    garbage('space in the request target', `GET /metrics ?token=${token} HTTP/1.1\r\nHost: x\r\n\r\n`),
    garbage('header without a colon', `GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization Bearer ${token}\r\n\r\n`),
    garbage('two Content-Lengths', `GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`),
    garbage('headers over 16 KiB', `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'t'.repeat(17_000)}\r\n\r\n`),
  ];
}

/** How an answer breaks the endpoints' rules (empty when it keeps them). */
export function endpointViolations(c: EndpointCase, outcome: Outcome): string[] {
  if (outcome.kind !== 'answer') return [`${outcome.kind} after ${outcome.ms} ms instead of an answer`];
  const { status, headers, body } = outcome.response;
  const found: string[] = [];
  if (status !== c.status) found.push(`status ${status} where the rules say ${c.status}`);
  const type = headers['content-type'] ?? '';
  const text = body.toString('utf8');
  if (LEAK.test(text)) found.push(`the body shows the server's insides: ${JSON.stringify(text.match(LEAK)![0])}`);
  if (status === 405 && headers.allow !== (c.endpoint === 'other' ? 'POST' : 'GET')) found.push(`405 with Allow ${JSON.stringify(headers.allow)}`);
  if (status === 401 && headers['www-authenticate'] !== 'Bearer realm="wahook"') found.push('401 without WWW-Authenticate: Bearer');
  if (status === 200 && c.endpoint === 'metrics') {
    if (!/^text\/plain; version=0\.0\.4/.test(type)) found.push(`metrics with content-type ${JSON.stringify(type)}`);
    if (!c.head) {
      try {
        if (readScrape(text).families.size !== METRIC_FAMILY_COUNT) found.push(`${readScrape(text).families.size} metric families, not ${METRIC_FAMILY_COUNT}`);
      } catch (error) {
        found.push(`the metrics do not parse: ${String(error).slice(0, 120)}`);
      }
    }
    return found;
  }
  if (!/^application\/json\b/i.test(type)) found.push(`content-type ${JSON.stringify(type)}, not application/json`);
  if (c.head) return found;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return [...found, 'the body is not JSON'];
  }
  if (status === 200) {
    if (!['ok', 'degraded'].includes(String(parsed.status)) || parsed.store !== 'reachable' || !Array.isArray(parsed.accounts)) found.push(`health body ${printable(body, 120)}`);
  } else if (Object.keys(parsed).sort().join(',') !== 'data,message,status' || parsed.status !== status || typeof parsed.message !== 'string' || !/^[A-Z"]/.test(parsed.message)) {
    found.push(`error body ${printable(body, 160)}`);
  }
  return found;
}
