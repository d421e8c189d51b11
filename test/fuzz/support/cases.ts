/**
 * The requests the fuzz suites send, generated with fast-check from a fixed seed: well-formed HTTP/1.x
 * requests with every part varied (method, path, headers, framing, body), and protocol-level garbage
 * that Node's HTTP parser refuses before any handler runs. Each case carries what the contract lets the
 * answer be, when that is known from the request alone (the oracle), and whether it reaches the
 * webhook's handler in a given engine.
 */
import fc from 'fast-check';
import { METHODS } from 'node:http';

/** The webhook's body limit (shared/webhook/webhook.ts MAX_BODY_BYTES; restated so a change there is noticed here). */
export const MAX_BODY = 256 * 1024;

/** Where the webhook answers in one engine. */
export interface Target {
  /** The path up to the token, e.g. "/whatsapp/" or "/webhook/<webhook id>/whatsapp/". */
  readonly prefix: string;
  /** The workspace's current, enabled token. */
  readonly token: string;
  /**
   * Which requests reach our handler: the standalone server (and the n8n Dedicated Port, the same server)
   * receives every request; in Node-RED and n8n the engine routes only some to it.
   */
  readonly engine: 'standalone' | 'node-red' | 'n8n';
}

/** What the contract lets the answer's status be; absent when the request alone does not decide it. */
export type Oracle = { readonly status: readonly number[]; readonly why: string } | undefined;

export interface Case {
  /** A family name for grouping findings, e.g. "path:bad-percent" or "garbage:chunk-size". */
  readonly family: string;
  /** One line saying what the request is. */
  readonly label: string;
  readonly segments: readonly Buffer[];
  readonly halfClose: boolean;
  readonly head: boolean;
  /** Node's parser refuses it before any request handler (a malformed request line, header or framing). */
  readonly garbage: boolean;
  /** It reaches the webhook's own handler in the target's engine (always, for the standalone server). */
  readonly ours: boolean;
  readonly oracle: Oracle;
  /**
   * Why the engine may hold this connection open without answering (a WebSocket upgrade taken by the
   * engine's own listener, as n8n's does on any path): not asserted, and given a short timeout.
   */
  readonly engineMayHold?: string;
}

type TokenState = 'valid' | 'unknown' | 'malformed' | 'unsure';

interface PathSpec {
  readonly family: string;
  /** The request-target, built from the target's prefix and token. */
  readonly target: (t: Target) => string;
  readonly state: TokenState;
  /** A single plain segment after the prefix, which every engine's router sends to the webhook. */
  readonly routed: 'always' | 'simple' | 'encoded' | 'never';
}

type BodyExpectation = readonly number[] | 'unsure';

interface BodySpec {
  readonly family: string;
  readonly bytes: Buffer;
  /** The status for this body when everything before the body is right (valid token, POST, JSON). */
  readonly expect: BodyExpectation;
}

interface RequestSpec {
  readonly method: string;
  readonly path: PathSpec;
  readonly version: '1.1' | '1.0';
  readonly host: 'one' | 'none' | 'two';
  readonly contentType: readonly string[];
  readonly framing: 'length' | 'chunked';
  readonly chunks: readonly number[];
  readonly chunkStyle: 'lower' | 'upper' | 'extension' | 'trailer';
  readonly body: BodySpec;
  readonly headers: readonly (readonly [string, string])[];
  readonly headerFamily: string;
  readonly connection: 'close' | 'keep-alive' | 'none';
}

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
const PHONES = ['+14151231234', '14151231234', '+1 (415) 123-1234', '+1.415.123.1234', '+447911123456', '+5511912345678'];
const TEXT_CHARS = [...'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,!?-', 'ñ', 'é', 'ß', 'Ж', '中', '😀', '👍🏽', '\n', '"', '\\', '/', '\t'];

/** Methods Node's parser knows, as a client would send them (CONNECT aside: it is its own case). */
const KNOWN_METHODS = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'LOCK', 'QUERY'].filter((m) =>
  METHODS.includes(m),
);
/** The methods n8n routes to the trigger (its description registers these five, nodes/n8n/WhatsAppTrigger/description.ts). */
const N8N_METHODS = new Set(['POST', 'GET', 'PUT', 'PATCH', 'DELETE']);

// ---------------------------------------------------------------------------------------------- paths

const path = (family: string, state: TokenState, routed: PathSpec['routed'], target: (t: Target) => string): PathSpec => ({ family, state, routed, target });

const wrongToken = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 64 }).filter((s) => !s.includes('fuzz'));

const BAD_PERCENT = ['%zz', '%E0%A4%A', '%', '%%', '%0', '%G0', '%C0%AF', '%ED%A0%80', '%FF', '%80', '%E0%A4', '%F0%9F%98', '%u0041'];

const pathArb: fc.Arbitrary<PathSpec> = fc.oneof(
  { weight: 40, arbitrary: fc.constant(path('path:token', 'valid', 'simple', (t) => t.prefix + t.token)) },
  {
    weight: 6,
    arbitrary: fc
      .constantFrom('', 'a=1', 'a=%zz', '?', 'token=x&y=2', '%', '%E0%A4%A', 'x=' + 'y'.repeat(600), 'a[]=1&a[]=2', '=&&=')
      .map((query) => path('path:token-query', 'valid', 'simple', (t) => `${t.prefix}${t.token}?${query}`)),
  },
  { weight: 10, arbitrary: wrongToken.map((w) => path('path:wrong-token', 'unknown', 'simple', (t) => t.prefix + w)) },
  { weight: 2, arbitrary: wrongToken.map((w) => path('path:wrong-token-query', 'unknown', 'simple', (t) => `${t.prefix}${w}?a=b`)) },
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...BAD_PERCENT), fc.constantFrom('alone', 'after-token', 'before-token', 'inside-token'))
      .map(([bad, where]) =>
        path('path:bad-percent', 'malformed', 'encoded', (t) =>
          where === 'alone'
            ? t.prefix + bad
            : where === 'after-token'
              ? t.prefix + t.token + bad
              : where === 'before-token'
                ? t.prefix + bad + t.token
                : t.prefix + t.token.slice(0, 5) + bad + t.token.slice(5),
        ),
      ),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), fc.boolean())
      .map(([which, upper]) =>
        path('path:encoded-token', 'unsure', 'encoded', (t) =>
          t.prefix +
          [...t.token]
            .map((char, i) => {
              if (!which[i % which.length]) return char;
              const hex = char.charCodeAt(0).toString(16);
              return `%${upper ? hex.toUpperCase() : hex}`;
            })
            .join(''),
        ),
      ),
  },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom('%C3%A9', '%F0%9F%98%80', '%E2%80%AEtoken', '%00', '%2F', '%2f%2e%2e', '%0A', '%0D%0A', '%20', '+', '%2B', '%E4%B8%AD%E6%96%87')
      .chain((encoded) =>
        fc.constantFrom(
          path('path:encoded-unicode', 'unknown', 'encoded', (t) => t.prefix + encoded),
          path('path:encoded-unicode', 'unknown', 'encoded', (t) => t.prefix + t.token + encoded),
        ),
      ),
  },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom('.', '..', '...', '%2e%2e', '.%2e', '..;', ';', ':', '@', '~', "'", '!', '$', '&', '(', ')', '*', ',', '=')
      .map((segment) => path('path:dots-and-delimiters', 'unknown', 'simple', (t) => t.prefix + segment)),
  },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom<[string, (t: Target) => string]>(
        ['empty token', (t) => t.prefix],
        ['double slash before token', (t) => `${t.prefix}/${t.token}`],
        ['trailing slash', (t) => `${t.prefix}${t.token}/`],
        ['extra segment', (t) => `${t.prefix}${t.token}/extra`],
        ['two trailing slashes', (t) => `${t.prefix}${t.token}//`],
        ['dot segment after token', (t) => `${t.prefix}${t.token}/..`],
        ['dot segments back to the token', (t) => `${t.prefix}../${t.prefix.replace(/^\/+/, '')}${t.token}`],
        ['double slash in prefix', (t) => t.prefix.replace(/\/([^/]+)\/$/, '//$1/') + t.token],
        ['only slashes', (t) => `${t.prefix}//`],
      )
      .map(([what, build]) => path(`path:slashes (${what})`, 'unsure', 'never', build)),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(256, 1024, 4096, 8000), fc.boolean())
      .map(([length, afterToken]) => path('path:overlong', 'unknown', 'simple', (t) => t.prefix + (afterToken ? t.token : '') + 'a'.repeat(length))),
  },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom<[string, (t: Target) => string]>(
        ['root', () => '/'],
        ['prefix without slash', (t) => t.prefix.slice(0, -1)],
        ['upper-case prefix', (t) => t.prefix.replace(/whatsapp\/$/, 'WHATSAPP/') + t.token],
        ['mixed-case prefix', (t) => t.prefix.replace(/whatsapp\/$/, 'WhatsApp/') + t.token],
        ['longer prefix word', (t) => t.prefix.replace(/whatsapp\/$/, 'whatsappx/') + t.token],
        ['another path', (t) => `/other/${t.token}`],
        ['asterisk', () => '*'],
        ['absolute form', (t) => `http://127.0.0.1${t.prefix}${t.token}`],
        ['query instead of slash', (t) => `${t.prefix.slice(0, -1)}?${t.token}`],
        ['favicon', () => '/favicon.ico'],
      )
      .map(([what, build]) => path(`path:other (${what})`, 'unsure', 'never', build)),
  },
);

// ---------------------------------------------------------------------------------------------- bodies

const json = (value: unknown, indent?: number) => Buffer.from(JSON.stringify(value, null, indent), 'utf8');
const body = (family: string, bytes: Buffer, expect: BodyExpectation): BodySpec => ({ family, bytes, expect });

const textArb = fc
  .string({ unit: fc.constantFrom(...TEXT_CHARS), minLength: 1, maxLength: 120 })
  .filter((text) => /[A-Za-z0-9ñéßЖ中]/.test(text));

const sendArb = fc.record({ phone: fc.constantFrom(...PHONES), text: textArb, order: fc.boolean(), indent: fc.constantFrom(undefined, 0, 2, 4) });

/** A valid request whose JSON is padded with spaces to exactly `size` bytes. */
function paddedSend(size: number): Buffer {
  const start = '{"action":"send","phone":"+14151231234","text":"size edge"';
  return Buffer.from(start + ' '.repeat(Math.max(0, size - start.length - 1)) + '}', 'utf8');
}

function nested(kind: 'array' | 'object', depth: number): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

const FRAGMENTS = [
  '{', '}', '[', ']', '{"action":', '{"action":"send"', '{"action":"send",}', '{"action":"send" "text":"x"}', '"send"', 'nul', 'tru',
  "{'action':'send','phone':'+14151231234','text':'x'}", '{"a":1}}', '/*c*/{}', 'NaN', '-', '1e999999', '0x10', '{"action":"send",,}',
  '{"action":"send","phone":"+14151231234","text":"unterminated', '\u00a0', '{"__proto__":{"x":1}}', '{"action":"send","text":"x","phone":"+14151231234"}garbage',
  '[{"action":"send","phone":"+14151231234","text":"x"}]', 'null', 'true', '0', '""', '[]', '{}', ' ', '\n\n', '{"action":"send","phone":"+14151231234","text":"x"}\u0000',
];

const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  {
    weight: 45,
    arbitrary: sendArb.map(({ phone, text, order, indent }) =>
      body('body:valid', json(order ? { action: 'send', phone, text } : { text, phone, action: 'send' }, indent), [200]),
    ),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(sendArb, fc.dictionary(fc.string({ unit: fc.constantFrom(...'abcdefgh_'), minLength: 1, maxLength: 8 }).map((k) => `x_${k}`), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }))
      .map(([{ phone, text }, extra]) => body('body:valid-with-unknown-fields', json({ action: 'send', phone, text, ...extra }), [200])),
  },
  {
    weight: 6,
    arbitrary: fc.constantFrom<[string, unknown, number]>(
      ['short phone', { action: 'send', phone: '12', text: 'x' }, 400],
      ['wrong action', { action: 'sned', phone: '+14151231234', text: 'x' }, 400],
      ['upper-case action', { action: 'SEND', phone: '+14151231234', text: 'x' }, 400],
      ['no text', { action: 'send', phone: '+14151231234' }, 400],
      ['numeric text', { action: 'send', phone: '+14151231234', text: 5 }, 400],
      ['no action', { phone: '+14151231234', text: 'x' }, 400],
      ['phone as object', { action: 'send', phone: { n: 1 }, text: 'x' }, 400],
      ['negative chat id', { action: 'send', chat_id: -1, text: 'x' }, 400],
      ['non-http file url', { action: 'send', phone: '+14151231234', text: 'x', file_url: 'ftp://example.invalid/a', file_name: 'a.txt' }, 400],
      ["text over WhatsApp's limit", { action: 'send', phone: '+14151231234', text: 'x'.repeat(65_537) }, 400],
      ["file name over WhatsApp's limit", { action: 'send', phone: '+14151231234', text: 'x', file_url: 'https://example.invalid/a.pdf', file_name: `${'a'.repeat(256)}.pdf` }, 400],
      ['unknown chat id', { action: 'send', chat_id: 77234, text: 'hi' }, 422],
      ['unknown chat name', { action: 'send', chat_name: 'Nobody Here At All', text: 'hi' }, 422],
      ['unknown account', { action: 'send', phone: '+14151231234', text: 'hi', whatsapp_account_phone: '+19998887777' }, 422],
    ).map(([what, value, status]) => body(`body:invalid-field (${what})`, json(value), [status])),
  },
  { weight: 3, arbitrary: fc.constant(body('body:empty', Buffer.alloc(0), [400])) },
  { weight: 6, arbitrary: fc.constantFrom(...FRAGMENTS).map((text) => body('body:json-fragment', Buffer.from(text, 'utf8'), [400])) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(sendArb, fc.double({ min: 0, max: 0.999, noNaN: true }))
      .map(([{ phone, text }, at]) => {
        const full = json({ action: 'send', phone, text });
        return body('body:truncated-json', full.subarray(0, Math.floor(full.length * at)), [400]);
      }),
  },
  { weight: 5, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((bytes) => body('body:random-bytes', Buffer.from(bytes), [400])) },
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => body('body:random-json', json(value), [400])) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom([0xff], [0xc3, 0x28], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xfe, 0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]),
        fc.constantFrom('in-text', 'in-key', 'outside-strings'),
      )
      .map(([bad, where]) => {
        const raw = Buffer.from(bad);
        const bytes =
          where === 'in-text'
            ? Buffer.concat([Buffer.from('{"action":"send","phone":"+14151231234","text":"a'), raw, Buffer.from('b"}')])
            : where === 'in-key'
              ? Buffer.concat([Buffer.from('{"action":"send","phone":"+14151231234","text":"x","x_'), raw, Buffer.from('":1}')])
              : Buffer.concat([Buffer.from('{"action":"send","phone":"+14151231234","text":"x"'), raw, Buffer.from('}')]);
        // In a string, a decoder may replace the bytes (and accept) or refuse them; outside, it is not JSON.
        return body(`body:invalid-utf8 (${where})`, bytes, where === 'outside-strings' ? [400] : [200, 400]);
      }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<[string, Buffer, BodyExpectation]>(
      ['utf-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json({ action: 'send', phone: '+14151231234', text: 'bom' })]), [200, 400]],
      ['utf-16le', Buffer.from(JSON.stringify({ action: 'send', phone: '+14151231234', text: 'utf16' }), 'utf16le'), 'unsure'],
      ['utf-16le with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify({ action: 'send', phone: '+14151231234', text: 'x' }), 'utf16le')]), 'unsure'],
      ['NUL in text', json({ action: 'send', phone: '+14151231234', text: 'a\u0000b' }), [200, 400]],
      ['lone surrogate escape', Buffer.from('{"action":"send","phone":"+14151231234","text":"\\ud800"}'), [200, 400]],
      ['duplicate keys', Buffer.from('{"action":"send","action":"send","phone":"+14151231234","text":"a","text":"b"}'), [200, 400]],
      ['huge number', Buffer.from(`{"action":"send","phone":"+14151231234","text":"x","x_n":1${'0'.repeat(5000)}}`), [200]],
      ['long string', json({ action: 'send', phone: '+14151231234', text: 'x', x_s: 'y'.repeat(100_000) }), [200]],
    ).map(([what, bytes, expect]) => body(`body:encoding (${what})`, bytes, expect)),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom<'array' | 'object'>('array', 'object'), fc.constantFrom(64, 1_000, 10_000, 40_000), fc.boolean())
      .map(([kind, depth, insideSend]) =>
        insideSend
          ? body(
              `body:deep-json (${kind} under an unknown field)`,
              Buffer.from(`{"action":"send","phone":"+14151231234","text":"deep","x_deep":${nested(kind, depth)}}`),
              // Unknown fields are ignored; a product may also refuse absurd nesting.
              [200, 400],
            )
          : body(`body:deep-json (${kind})`, Buffer.from(nested(kind, depth)), [400]),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(MAX_BODY - 1, MAX_BODY, MAX_BODY + 1, MAX_BODY + 1000, 300_000, 600_000)
      .map((size) => body(`body:size-edge (${size <= MAX_BODY ? 'at most' : 'over'} 256 KiB)`, paddedSend(size), size <= MAX_BODY ? [200] : [413])),
  },
);

// ---------------------------------------------------------------------------------------------- headers

const CONTENT_TYPES: readonly [string, boolean][] = [
  ['application/json', true],
  ['application/json; charset=utf-8', true],
  ['application/json;charset=UTF-8', true],
  ['APPLICATION/JSON', true],
  ['Application/Json; Charset=utf-8', true],
  ['application/json; charset=latin1', true],
  ['application/json ; foo=bar', true],
  ['application/json;', true],
  ['  application/json\t', true],
  ['application/json; charset="utf-8"', true],
  ['application/json; x=' + 'y'.repeat(3000), true],
  ['application/json, text/plain', false],
  ['application/jsonx', false],
  ['application/json5', false],
  ['text/json', false],
  ['application/vnd.api+json', false],
  ['application/ld+json', false],
  ['text/plain', false],
  ['text/html', false],
  ['application/x-www-form-urlencoded', false],
  ['multipart/form-data; boundary=xyz', false],
  ['application/octet-stream', false],
  ['application/xml', false],
  ['*/*', false],
  ['application/*', false],
  [';', false],
  ['', false],
  ['t'.repeat(2000), false],
];
const CONTENT_TYPE_OK = new Map(CONTENT_TYPES);

/** The Content-Type headers sent (none, one, or two different ones) */
const contentTypeArb: fc.Arbitrary<readonly string[]> = fc.oneof(
  { weight: 70, arbitrary: fc.constant(['application/json']) },
  { weight: 20, arbitrary: fc.constantFrom(...CONTENT_TYPES.map(([value]) => value)).map((value) => [value]) },
  { weight: 6, arbitrary: fc.constant([]) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...CONTENT_TYPES.map(([v]) => v)), fc.constantFrom(...CONTENT_TYPES.map(([v]) => v))).map(([a, b]) => [a, b]) },
);

type HeaderSet = { family: string; headers: [string, string][] };
const headersArb: fc.Arbitrary<HeaderSet> = fc.oneof(
  { weight: 50, arbitrary: fc.constant<HeaderSet>({ family: 'headers:plain', headers: [] }) },
  {
    weight: 10,
    arbitrary: fc
      .constantFrom<[string, string]>(
        ['Accept', 'text/html,application/xhtml+xml'],
        ['Accept', '*/*'],
        ['Accept', 'application/json'],
        ['Accept-Encoding', 'gzip, deflate, br'],
        ['User-Agent', 'Mozilla/5.0 (fuzz)'],
        ['Cookie', 'a=b; c=d'],
        ['Authorization', 'Bearer abc.def.ghi'],
        ['X-Forwarded-For', '203.0.113.9, 10.0.0.1'],
        ['X-Requested-With', 'XMLHttpRequest'],
        ['Origin', 'http://evil.invalid'],
        ['Expect', '100-continue'],
        ['Upgrade', 'websocket'],
        ['Upgrade', 'h2c'],
        ['Range', 'bytes=0-10'],
        ['If-None-Match', '*'],
        ['X-Unicode', 'caf\u00e9'],
      )
      .map((header): HeaderSet => ({ family: `headers:${header[0].toLowerCase()}`, headers: header[0] === 'Upgrade' ? [header, ['Connection', 'Upgrade']] : [header] })),
  },
  {
    weight: 6,
    arbitrary: fc.constantFrom(100, 1000, 4000, 9000).map((length) => ({ family: 'headers:long-value', headers: [['X-Pad', 'p'.repeat(length)]] as [string, string][] })),
  },
  {
    weight: 4,
    arbitrary: fc.integer({ min: 20, max: 400 }).map((count) => ({
      family: 'headers:many',
      headers: Array.from({ length: count }, (_, i) => [`X-Field-${i}`, String(i)] as [string, string]),
    })),
  },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom<[string, string][]>([['X-Dup', 'a'], ['X-Dup', 'b']], [['Accept', 'text/html'], ['Accept', 'application/json']], [['Cookie', 'a=1'], ['Cookie', 'b=2']])
      .map((headers) => ({ family: 'headers:duplicate', headers })),
  },
);

// ---------------------------------------------------------------------------------------------- requests

const requestArb: fc.Arbitrary<RequestSpec> = fc
  .record({
    method: fc.oneof({ weight: 65, arbitrary: fc.constant('POST') }, { weight: 35, arbitrary: fc.constantFrom(...KNOWN_METHODS) }),
    path: pathArb,
    version: fc.oneof({ weight: 9, arbitrary: fc.constant('1.1' as const) }, { weight: 1, arbitrary: fc.constant('1.0' as const) }),
    host: fc.oneof({ weight: 95, arbitrary: fc.constant('one' as const) }, { weight: 3, arbitrary: fc.constant('none' as const) }, { weight: 2, arbitrary: fc.constant('two' as const) }),
    contentType: contentTypeArb,
    framing: fc.oneof({ weight: 8, arbitrary: fc.constant('length' as const) }, { weight: 2, arbitrary: fc.constant('chunked' as const) }),
    chunks: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 0, maxLength: 6 }),
    chunkStyle: fc.constantFrom('lower' as const, 'upper' as const, 'extension' as const, 'trailer' as const),
    body: bodyArb,
    extra: headersArb,
    connection: fc.constantFrom('close' as const, 'keep-alive' as const, 'none' as const),
  })
  .map(({ extra, ...spec }) => ({ ...spec, headers: extra.headers, headerFamily: extra.family }));

const CRLF = '\r\n';

function chunked(bytes: Buffer, cuts: readonly number[], style: RequestSpec['chunkStyle']): Buffer {
  const points = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const to of [...points, bytes.length]) {
    if (to > from) {
      const size = (to - from).toString(16);
      parts.push(Buffer.from(`${style === 'upper' ? size.toUpperCase() : size}${style === 'extension' ? ';ext="v"' : ''}${CRLF}`), bytes.subarray(from, to), Buffer.from(CRLF));
    }
    from = to;
  }
  parts.push(Buffer.from(style === 'trailer' ? `0${CRLF}X-Trailer: t${CRLF}${CRLF}` : `0${CRLF}${CRLF}`));
  return Buffer.concat(parts);
}

/** Node's default limit on a request's line and headers (--max-http-header-size). */
const NODE_HEADER_LIMIT = 16 * 1024;

function buildRequest(spec: RequestSpec, target: Target): Case {
  const url = spec.path.target(target);
  const framing = spec.version === '1.0' ? 'length' : spec.framing;
  const lines = [`${spec.method} ${url} HTTP/${spec.version}`];
  if (spec.host !== 'none') lines.push('Host: 127.0.0.1');
  if (spec.host === 'two') lines.push('Host: example.invalid');
  for (const value of spec.contentType) lines.push(`Content-Type: ${value}`);
  let headers = spec.headers;
  const baseSize = lines.join(CRLF).length + url.length;
  // Stay under Node's header limit: a well-formed case must not turn into the header-overflow garbage case.
  const extraSize = headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
  if (baseSize + extraSize > NODE_HEADER_LIMIT - 512) headers = [];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (spec.connection !== 'none') lines.push(`Connection: ${spec.connection}`);
  const payload = spec.body.bytes;
  const wire = framing === 'chunked' ? chunked(payload, spec.chunks, spec.chunkStyle) : payload;
  lines.push(framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${payload.length}`);
  const head = Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1');

  const method = spec.method;
  const ct = spec.contentType[0];
  const jsonType = ct !== undefined && (CONTENT_TYPE_OK.get(ct) ?? false);
  const hostMissing = spec.version === '1.1' && spec.host === 'none';
  // Node-RED and n8n listen for WebSocket upgrades on their server (editor comms, push): a request asking
  // to upgrade goes to that listener, not to any route.
  const upgrade = headers.some(([name]) => name === 'Upgrade');
  const routed = routesToUs(target.engine, spec.path.routed, method) && !hostMissing && !upgrade;
  const oracle = oracleFor(spec.path.state, method, jsonType, payload.length, spec.body.expect, hostMissing);
  const label = [
    `${method} ${printableUrl(url)} HTTP/${spec.version}`,
    spec.host === 'one' ? '' : `host=${spec.host}`,
    spec.contentType.length === 0 ? 'no content-type' : `content-type=${spec.contentType.map((v) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)).join('+')}`,
    framing === 'chunked' ? `chunked(${spec.chunkStyle})` : '',
    `${spec.body.family} ${payload.length}B`,
    spec.headerFamily === 'headers:plain' ? '' : spec.headerFamily,
  ]
    .filter(Boolean)
    .join(' ');
  return {
    family: [...(spec.host === 'one' ? [] : [`host:${spec.host}${hostMissing ? ' (HTTP/1.1 without Host)' : ''}`]), spec.path.family, spec.body.family.replace(/ \(.*/, ''), ...(headers.length > 0 && spec.headerFamily !== 'headers:plain' ? [spec.headerFamily] : [])].join(' | '),
    label,
    segments: [head, wire],
    halfClose: false,
    head: method === 'HEAD',
    garbage: false,
    ours: target.engine === 'standalone' || routed,
    oracle,
    ...(upgrade && target.engine !== 'standalone' ? { engineMayHold: 'a WebSocket upgrade goes to the engine’s own upgrade listener' } : {}),
  };
}

function routesToUs(engine: Target['engine'], routed: PathSpec['routed'], method: string): boolean {
  if (engine === 'standalone') return true;
  if (routed === 'never') return false;
  // n8n's router matches the path itself and may decode or refuse an encoded segment on its own terms.
  if (engine === 'n8n') return routed === 'simple' && N8N_METHODS.has(method);
  // Node-RED: Express routes every known method of /whatsapp/:token to the webhook, encoded or not.
  return true;
}

function oracleFor(state: TokenState, method: string, jsonType: boolean, size: number, bodyExpect: BodyExpectation, hostMissing: boolean): Oracle {
  if (hostMissing) return undefined;
  if (state === 'unknown') return { status: [404], why: 'the token is not the webhook’s' };
  if (state === 'malformed') return { status: [400, 404], why: 'the token segment is not valid percent-encoding' };
  if (state === 'unsure') return undefined;
  if (method !== 'POST') return { status: [405], why: `${method} is not POST` };
  if (!jsonType) return { status: [415], why: 'the content type is not application/json' };
  if (size > MAX_BODY) return { status: [413], why: 'the body is over 256 KiB' };
  if (bodyExpect === 'unsure') return undefined;
  return { status: bodyExpect, why: 'valid token, POST, JSON: the body decides' };
}

function printableUrl(url: string): string {
  return url.length > 90 ? `${url.slice(0, 60)}…(${url.length} chars)` : url;
}

// ---------------------------------------------------------------------------------------------- garbage

/** Byte strings Node's HTTP parser refuses (each checked against Node 24's llhttp: a clientError, no handler). */
function garbageTemplates(t: Target): [string, Buffer][] {
  const target = t.prefix + t.token;
  const start = `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  const s = (text: string) => Buffer.from(text, 'latin1');
  const body = '{"action":"send","phone":"+14151231234","text":"x"}';
  const chunk = (size: string) => s(`${start}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\n${body}\r\n0\r\n\r\n`);
  return [
    ['method (lower case)', s(`post ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['method (digit)', s(`P0ST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['method (unknown)', s(`FOO ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['method (leading space)', s(` POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['version (HTTP/9.9)', s(`POST ${target} HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['version (HTTP/1.2)', s(`POST ${target} HTTP/1.2\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['line endings (bare LF)', s(`POST ${target} HTTP/1.1\nHost: 127.0.0.1\n\n`)],
    ['request line (HTTP/0.9 style, then EOF)', s('GET /\r\n')],
    ['url (raw space)', s(`POST ${t.prefix}a b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['url (raw tab)', s(`POST ${t.prefix}a\tb HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['url (control byte)', s(`POST ${t.prefix}a\x01b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['url (NUL)', s(`POST ${t.prefix}a\x00b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ['url (raw UTF-8)', Buffer.from(`POST ${t.prefix}caf\u00e9\u{1F600} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 'utf8')],
    ['url (raw 0xFF)', Buffer.concat([s(`POST ${t.prefix}a`), Buffer.from([0xff, 0xfe]), s(' HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')])],
    ['url (over the header limit)', s(`POST ${t.prefix}${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
    ...['abc', '-1', '1.5', '0x10', '+5', '99999999999999999999999', '1 2', '2, 2'].map(
      (value): [string, Buffer] => [`content-length (${value})`, s(`${start}Content-Type: application/json\r\nContent-Length: ${value}\r\n\r\n{}`)],
    ),
    ['content-length (twice, same value)', s(`${start}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}`)],
    ['content-length (twice, different values)', s(`${start}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{} `)],
    ['transfer-encoding (with content-length)', s(`${start}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`)],
    ['transfer-encoding (gzip)', s(`${start}Transfer-Encoding: gzip\r\n\r\n{}`)],
    ['transfer-encoding (chunked, gzip)', s(`${start}Transfer-Encoding: chunked, gzip\r\n\r\n{}`)],
    ['transfer-encoding (twice)', s(`${start}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`)],
    ['chunk size (zz)', chunk('zz')],
    ['chunk size (-1)', chunk('-1')],
    ['chunk size (overflow)', chunk('ffffffffffffffffffff')],
    ['chunk size (trailing space)', chunk(`${body.length.toString(16)} `)],
    ['chunk (data longer than its size)', chunk((body.length - 5).toString(16))],
    ['chunk (no CRLF after data)', s(`${start}Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n`)],
    ['header (no colon)', s(`${start}Garbage\r\n\r\n`)],
    ['header (space in name)', s(`${start}Content Type: application/json\r\n\r\n`)],
    ['header (space before colon)', s(`${start}Content-Type : application/json\r\n\r\n`)],
    ['header (NUL in value)', s(`${start}X-A: a\x00b\r\n\r\n`)],
    ['header (control byte in value)', s(`${start}X-A: a\x01b\r\n\r\n`)],
    ['header (DEL in value)', s(`${start}X-A: a\x7fb\r\n\r\n`)],
    ['header (obsolete line folding)', s(`${start}X-A: a\r\n b\r\n\r\n`)],
    ['header (bad name character)', s(`${start}X(A): a\r\n\r\n`)],
    ['header (empty name)', s(`${start}: a\r\n\r\n`)],
    ['header (value over the header limit)', s(`${start}X-Pad: ${'a'.repeat(20 * 1024)}\r\n\r\n`)],
    ['header (3000 headers)', s(`${start}${Array.from({ length: 3000 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`)],
    ['TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, ...Array.from({ length: 32 }, (_, i) => i)])],
    ['JSON instead of a request line', s(`${body}\r\n\r\n`)],
    ['HTTP/2 connection preface', s('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
  ];
}

/**
 * Well-formed requests that Node's server does not hand to a request handler by default: CONNECT (closed
 * unless the server listens for "connect") and an Expect other than 100-continue (answered 417 unless it
 * listens for "checkExpectation"). They reach the standalone server's path, so they get the contract.
 */
function specialCases(t: Target): Case[] {
  const target = t.prefix + t.token;
  const send = '{"action":"send","phone":"+14151231234","text":"special"}';
  const special = (what: string, segments: Buffer[], ours = t.engine === 'standalone', oracle: Oracle = undefined): Case => ({
    family: `special:${what}`,
    label: `special: ${what}`,
    segments,
    halfClose: false,
    head: false,
    garbage: false,
    ours,
    oracle,
  });
  const text = (value: string) => Buffer.from(value, 'latin1');
  return [
    special('CONNECT to the webhook path', [text(`CONNECT ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)]),
    special('Expect other than 100-continue', [
      text(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 200-ok\r\nContent-Length: ${send.length}\r\n\r\n${send}`),
    ]),
    // A declared length far over the limit, 300 KiB of it sent, then the client waits: the webhook has
    // seen enough to answer 413 and must not wait for the rest. (n8n reads the body itself, before our node.)
    special(
      'Content-Length of 1 GiB, 300 KiB sent, then waiting',
      [text(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 ** 30}\r\n\r\n`), Buffer.alloc(300 * 1024, 0x20)],
      t.engine !== 'n8n',
      { status: [413], why: 'more than 256 KiB of body has arrived' },
    ),
  ];
}

// A method-start byte Node's parser can never accept: outside the token characters and not CR/LF.
const BAD_FIRST_BYTES = [0x00, 0x01, 0x09, 0x0b, 0x1b, 0x20, 0x22, 0x28, 0x2c, 0x2f, 0x3a, 0x3c, 0x3f, 0x40, 0x5b, 0x7b, 0x7f, 0x80, 0xc3, 0xff];

function randomGarbage(count: number, seed: number): [string, Buffer][] {
  const arb = fc.oneof(
    fc
      .tuple(fc.constantFrom(...BAD_FIRST_BYTES), fc.uint8Array({ maxLength: 600 }))
      .map(([first, rest]): [string, Buffer] => ['random bytes', Buffer.concat([Buffer.from([first]), Buffer.from(rest), Buffer.from('\r\n\r\n')])]),
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom(...KNOWN_METHODS).map((m) => m.toLowerCase()),
          fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 1, maxLength: 10 }),
        ),
        fc.uint8Array({ maxLength: 200 }),
      )
      .map(([method, rest]): [string, Buffer] => [
        'random method',
        Buffer.concat([Buffer.from(`${method} /whatsapp/x HTTP/1.1\r\n`), Buffer.from(rest), Buffer.from('\r\n\r\n')]),
      ]),
  );
  return fc.sample(arb, { seed, numRuns: count });
}

// ---------------------------------------------------------------------------------------------- sets

export interface CaseSetOptions {
  readonly seed: number;
  /** Generated well-formed requests. */
  readonly requests: number;
  /** Generated random garbage (on top of the fixed garbage templates). */
  readonly garbage: number;
}

/** The well-formed requests of one run: the same for a given seed, target and count. */
export function requestCases(target: Target, options: CaseSetOptions): Case[] {
  return [...fc.sample(requestArb, { seed: options.seed, numRuns: options.requests }).map((spec) => buildRequest(spec, target)), ...specialCases(target)];
}

/** The protocol-level garbage of one run: the fixed templates, then random garbage from the seed. */
export function garbageCases(target: Target, options: CaseSetOptions): Case[] {
  const garbage = [...garbageTemplates(target), ...randomGarbage(options.garbage, options.seed + 1)];
  return garbage.map(([what, bytes]) => ({
    family: `garbage:${what.replace(/ \(.*/, '')}`,
    label: `garbage: ${what}`,
    segments: [bytes],
    // "Nothing more to send": a parser waiting for more sees the end and refuses the request.
    halfClose: true,
    head: false,
    garbage: true,
    ours: target.engine === 'standalone',
    oracle: target.engine === 'standalone' ? { status: [400], why: 'Node’s parser refuses it: the contract’s JSON 400' } : undefined,
  }));
}

/** A valid send to the target, as raw bytes (for the liveness checks, slow clients and the flood). */
export function validRequest(target: Target, text = 'fuzz liveness check', extraHeaders: readonly string[] = []): { head: Buffer; body: Buffer } {
  const payload = Buffer.from(JSON.stringify({ action: 'send', phone: '+14151231234', text }), 'utf8');
  const head = Buffer.from(
    [`POST ${target.prefix}${target.token} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${payload.length}`, ...extraHeaders, '', ''].join(CRLF),
    'latin1',
  );
  return { head, body: payload };
}
