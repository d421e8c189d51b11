/**
 * Fuzz cases for Meta's webhook of a Cloud API number, `<prefix>cloud-api` (shared/webhook/cloud-api-webhook.ts),
 * generated with fast-check from a fixed seed, and the contract every answer there keeps:
 *
 * - GET is the subscription check: `hub.mode=subscribe`, the verify token and a non-empty `hub.challenge`
 *   (the hub.* parameters read as WHATWG URLSearchParams reads a query: percent-decoded where valid,
 *   "+" as a space, the first of repeated ones) answer 200 with the challenge as text/plain; anything else 403.
 * - POST is taken only when X-Hub-Signature-256 is `sha256=<HMAC-SHA256 of the raw body with the app secret>`:
 *   over 3 MiB 413 (before any signature check), unsigned or wrongly signed 401, signed but not JSON 400,
 *   signed JSON 200 ("Received."), whatever it holds.
 * - Any other method 405 with `Allow: GET, POST`; 404 when no number is set up, 503 (Retry-After) while opening.
 * - Everything but the challenge is the contract's JSON, {"status": <the HTTP status>, "data": {}, "message": "<a sentence>"},
 *   and a refusal (401, 403) names why.
 *
 * Paths next to it (a trailing segment, another case, a percent-escape) are not the Cloud API's: the
 * TimelinesAI webhook's route answers them, 404 in its own contract.
 *
 * Which requests reach the webhook depends on the engine (CloudTarget.engine): Node-RED's Express routes
 * every method and matches paths without regard to case; the standalone server (and n8n's Dedicated Port,
 * the same server) gets every request and matches `/whatsapp/` as written; n8n hands the trigger only its
 * five registered methods on a single plain path segment, and answers the rest itself (those are checked
 * only for an answer or a close, not a hang).
 */
import fc from 'fast-check';
import { METHODS } from 'node:http';
import { signBody } from '../../../shared/transport/cloud-api/signature';
import { ANSWER_TIMEOUT_MS, pool, type Finding } from './campaign';
import { contractViolations, describeOutcome, errorBodyViolations, jsonBodyOf, statusOf } from './contract';
import { exchange, printable, type Outcome } from './raw-http';

/** The Cloud API webhook's body limit (CLOUD_API_MAX_BODY_BYTES, restated so a change there is noticed here). */
export const CLOUD_MAX_BODY = 3 * 1024 * 1024;

/** The statuses Meta's webhook answers with. */
export const CLOUD_API_STATUSES: ReadonlySet<number> = new Set([200, 400, 401, 403, 404, 405, 413, 503]);

export interface CloudTarget {
  /** The webhook prefix, e.g. "/whatsapp/": the Cloud API webhook is `<prefix>cloud-api`. */
  readonly prefix: string;
  /** The engine in front of the webhook, which decides what reaches it (see PathSpec.routes); Node-RED unless said. */
  readonly engine?: CloudEngine;
  readonly phoneNumberId: string;
  readonly appSecret: string;
  readonly verifyToken: string;
}

export interface CloudCase {
  readonly family: string;
  readonly label: string;
  readonly segments: readonly Buffer[];
  readonly head: boolean;
  /**
   * Whose contract the answer keeps: Meta's webhook's, the TimelinesAI webhook's (a neighbouring path), or
   * only the engine's (a request Node's server answers itself: it must answer or close, not hang).
   */
  readonly contract: 'cloud-api' | 'webhook' | 'engine';
  readonly status?: readonly number[];
  readonly why: string;
  /** A verification the contract answers 200: the text that answer must carry. */
  readonly challenge?: string;
}

/** Node-RED's Express route, the core's own server (standalone `serve`, n8n's Dedicated Port), or n8n's webhook route. */
export type CloudEngine = 'node-red' | 'standalone' | 'n8n';

/** The methods n8n routes to the trigger (its description registers these five, nodes/n8n/WhatsAppTrigger/description.ts). */
const N8N_METHODS = new Set(['POST', 'GET', 'PUT', 'PATCH', 'DELETE']);

// ---------------------------------------------------------------------------------------------- queries

interface QuerySpec {
  readonly family: string;
  readonly query: string;
}

const ASCII_CHALLENGE = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~'), minLength: 1, maxLength: 40 });
/** Any text, sent percent-encoded: Meta's challenges are digits, but a reflected value must come back as sent. */
const ANY_CHALLENGE = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 2 ** 31 - 1 }).map(String) },
  { weight: 2, arbitrary: ASCII_CHALLENGE },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('<script>alert(1)</script>', '<html><body>x</body></html>', 'a\u0000b', '\r\nX-Injected: 1', ' ', '{"status":200}', '😀👍🏽', '%zz') },
);
const enc = encodeURIComponent;

function queryArb(t: CloudTarget): fc.Arbitrary<QuerySpec> {
  const valid = (challenge: string) => `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=${enc(challenge)}`;
  const q = (family: string, query: string): QuerySpec => ({ family: `query:${family}`, query });
  return fc.oneof(
    { weight: 20, arbitrary: ANY_CHALLENGE.map((challenge) => q('valid', valid(challenge))) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(ASCII_CHALLENGE, fc.constantFrom(0, 1, 2))
        .map(([challenge, order]) =>
          q(
            'valid (reordered)',
            [[`hub.challenge=${challenge}`, 'hub.mode=subscribe', `hub.verify_token=${enc(t.verifyToken)}`], [`hub.verify_token=${enc(t.verifyToken)}`, `hub.challenge=${challenge}`, 'hub.mode=subscribe'], ['a=1', valid(challenge), 'z=%zz']][order]!.join('&'),
          ),
        ),
    },
    { weight: 4, arbitrary: fc.tuple(fc.string({ maxLength: 40 }), ASCII_CHALLENGE).map(([token, challenge]) => q('wrong token', `hub.mode=subscribe&hub.verify_token=${enc(token)}&hub.challenge=${challenge}`)) },
    { weight: 2, arbitrary: ASCII_CHALLENGE.map((challenge) => q('token with another case', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken.toUpperCase())}&hub.challenge=${challenge}`)) },
    { weight: 2, arbitrary: ASCII_CHALLENGE.map((challenge) => q('token with a prefix', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken.slice(0, -1))}&hub.challenge=${challenge}`)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom('unsubscribe', 'SUBSCRIBE', 'Subscribe', '', 'subscribe%20', '%20subscribe', 'subscribe+', 'subscribe%00', '%zz'), ASCII_CHALLENGE)
        .map(([mode, challenge]) => q('wrong mode', `hub.mode=${mode}&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=${challenge}`)),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        q('missing parts', ''),
        q('missing parts', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}`),
        q('missing parts', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=`),
        q('missing parts', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.challenge`),
        q('missing parts', `hub.verify_token=${enc(t.verifyToken)}&hub.challenge=1`),
        q('missing parts', 'hub.mode=subscribe&hub.challenge=1'),
        q('missing parts', `hub.mode=subscribe&hub.verify_token=&hub.challenge=1`),
        q('missing parts', '?'),
        q('missing parts', '&&&'),
        q('missing parts', '='),
      ),
    },
    {
      weight: 4,
      arbitrary: fc
        .constantFrom('%zz', '%', '%%', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', '%u0041', '%00')
        .chain((bad) =>
          fc.constantFrom(
            q('bad percent', bad),
            q('bad percent', `${bad}=${bad}`),
            q('bad percent', `hub.mode=${bad}&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=1`),
            q('bad percent', `hub.mode=subscribe&hub.verify_token=${bad}&hub.challenge=1`),
            q('bad percent', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=${bad}`),
            q('bad percent', `${bad}&${valid('777')}`),
            q('bad percent', `hub.mode=subscribe&hub${bad}.verify_token=${enc(t.verifyToken)}&hub.challenge=1`),
          ),
        ),
    },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        q('repeated', `${valid('first')}&hub.challenge=second`),
        q('repeated', `hub.challenge=first&${valid('second')}`),
        q('repeated', `hub.mode=subscribe&hub.verify_token=wrong&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=1`),
        q('repeated', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.verify_token=wrong&hub.challenge=1`),
        q('repeated', `hub.mode=unsubscribe&${valid('1')}`),
        q('repeated', `${valid('1')}&hub.mode=unsubscribe`),
        q('repeated', `hub.challenge=&${valid('2')}`),
        q('repeated', Array.from({ length: 150 }, () => valid('3')).join('&')),
        q('repeated', `${Array.from({ length: 1200 }, (_, i) => `p${i}=${i}`).join('&')}&${valid('after-1200-params')}`),
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(1_000, 6_000, 12_000, 14_500), fc.constantFrom('padding', 'challenge', 'token'))
        .map(([length, where]) =>
          q(
            `huge (${where})`,
            where === 'padding'
              ? `x=${'y'.repeat(length)}&${valid('big')}`
              : where === 'challenge'
                ? valid('c'.repeat(length))
                : `hub.mode=subscribe&hub.verify_token=${'t'.repeat(length)}&hub.challenge=1`,
          ),
        ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        q('separators', `hub.mode=subscribe;hub.verify_token=${enc(t.verifyToken)};hub.challenge=1`),
        q('separators', `hub.mode=subscribe&amp;hub.verify_token=${enc(t.verifyToken)}&amp;hub.challenge=1`),
        q('separators', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=1+2+3`),
        q('separators', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=12#fragment`),
        q('separators', `hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=a?b=c`),
        q('separators', `hub%2Emode=subscribe&hub%2Everify_token=${enc(t.verifyToken)}&hub%2Echallenge=encoded-names`),
        q('separators', `hub_mode=subscribe&hub_verify_token=${enc(t.verifyToken)}&hub_challenge=1`),
        q('separators', `hub[mode]=subscribe&hub[verify_token]=${enc(t.verifyToken)}&hub[challenge]=1`),
      ),
    },
  );
}

/** What the verification answers to `query`, read as the contract says (URLSearchParams, the first of repeated ones). */
function verificationOf(query: string, verifyToken: string): { status: 200; challenge: string } | { status: 403 } {
  const params = new URLSearchParams(query);
  const challenge = params.get('hub.challenge');
  if (params.get('hub.mode') !== 'subscribe' || params.get('hub.verify_token') !== verifyToken || !challenge) return { status: 403 };
  return { status: 200, challenge };
}

// ---------------------------------------------------------------------------------------------- bodies

interface CloudBody {
  readonly family: string;
  readonly bytes: Buffer;
  /** How the body is signed. */
  readonly signature: 'right' | 'none' | 'wrong' | 'other-body' | 'malformed' | 'upper-case hex' | 'two headers' | 'upper-case prefix' | 'padded';
  /** The status when POSTed (signature and size included). */
  readonly expect: readonly number[];
}

const DIGITS = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 20 });
const WAMID = fc.oneof(
  DIGITS.map((digits) => `wamid.HBgL${digits}`),
  fc.string({ maxLength: 80 }),
  fc.constantFrom('', '__proto__', 'constructor', 'wamid.'.padEnd(5000, 'x')),
);
const TIMESTAMP = fc.constantFrom<unknown>('1700000000', 1700000000, '', 'abc', '-1', -1, 0, '1e306', 1e306, '9007199254740993', 1e20, 1.5, null, true, {}, []);
const FROM = fc.oneof(DIGITS, fc.constantFrom('', 'abc', '+1 (415) 123-1234', '٠١٢٣', 'x'.repeat(3000)));
const KIND = fc.constantFrom('text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'reaction', 'interactive', 'button', 'unknown', 'system', '__proto__', 'constructor', 'toString', '');
const FREE = fc.jsonValue({ maxDepth: 3 });

type Envelope = { entry: { changes: { field: unknown; value: { metadata: Record<string, unknown> } }[] }[] };
const envelope = (value: unknown, field: unknown = 'messages') => ({ object: 'whatsapp_business_account', entry: [{ id: 'WABA_ID', changes: [{ value, field }] }] });
const metadata = (t: CloudTarget) => ({ display_phone_number: '15550100000', phone_number_id: t.phoneNumberId });

function statusArb(t: CloudTarget): fc.Arbitrary<unknown> {
  return fc
    .record({
      id: WAMID,
      status: fc.constantFrom<unknown>('sent', 'delivered', 'read', 'failed', 'played', 'deleted', 'warning', '', 5, null),
      timestamp: TIMESTAMP,
      recipient_id: FROM,
      errors: fc.option(fc.oneof(fc.array(fc.record({ code: fc.oneof(fc.integer(), fc.constantFrom<unknown>('131026', null, 1e308)), title: fc.string({ maxLength: 60 }), error_data: FREE })), FREE)),
    })
    .map((status) => envelope({ messaging_product: 'whatsapp', metadata: metadata(t), statuses: [status] }));
}

function messageArb(t: CloudTarget): fc.Arbitrary<unknown> {
  return fc
    .record({
      from: FROM,
      id: WAMID,
      timestamp: TIMESTAMP,
      type: KIND,
      part: fc.oneof(
        fc.record({ body: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.constant('x'.repeat(70_000)), FREE) }),
        fc.record({ caption: fc.string({ maxLength: 50 }), mime_type: fc.constantFrom('image/jpeg', '', 'x/y'), file_size: fc.constantFrom<unknown>(10, -1, '1e400', 'abc', 1e308), id: fc.string() }),
        fc.record({ latitude: fc.constantFrom<unknown>(52.5, '52.5', 1e400, 'NaN', null), longitude: fc.constantFrom<unknown>(13.4, '-200', Infinity, '') }),
        fc.record({ message_id: WAMID, emoji: fc.string({ unit: 'grapheme', maxLength: 4 }) }),
        fc.record({ button_reply: fc.record({ id: fc.string(), title: fc.string() }) }),
        FREE,
      ),
      context: fc.option(fc.record({ from: FROM, id: WAMID })),
      contacts: fc.option(fc.array(fc.record({ wa_id: FROM, profile: fc.record({ name: fc.oneof(fc.string({ maxLength: 40 }), FREE) }), name: FREE }), { maxLength: 3 })),
    })
    .map(({ from, id, timestamp, type, part, context, contacts }) =>
      envelope({
        messaging_product: 'whatsapp',
        metadata: metadata(t),
        ...(contacts ? { contacts } : {}),
        messages: [{ from, id, timestamp, type, [type]: part, ...(context ? { context } : {}) }],
      }),
    );
}

function nested(kind: 'array' | 'object', depth: number): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

const isJson = (bytes: Buffer) => {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
};

/** A genuine receipt padded with spaces to exactly `size` bytes (JSON allows them before the closing brace). */
function paddedReceipt(size: number, t: CloudTarget): Buffer {
  const json = JSON.stringify(envelope({ messaging_product: 'whatsapp', metadata: metadata(t), statuses: [{ id: 'wamid.size-edge', status: 'read', timestamp: '1700000000', recipient_id: '14151231234' }] }));
  return Buffer.from(json.slice(0, -1) + ' '.repeat(Math.max(0, size - json.length)) + '}', 'utf8');
}

function bodyArb(t: CloudTarget): fc.Arbitrary<CloudBody> {
  const signedJson = (family: string, value: unknown): CloudBody => ({ family: `body:${family}`, bytes: Buffer.from(JSON.stringify(value), 'utf8'), signature: 'right', expect: [200] });
  const receipt = statusArb(t);
  return fc.oneof(
    { weight: 14, arbitrary: receipt.map((value) => signedJson('receipt', value)) },
    { weight: 12, arbitrary: messageArb(t).map((value) => signedJson('received message', value)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(receipt, fc.constantFrom<unknown>('999999999999999', 106540352242922, '', null, undefined))
        .map(([value, id]) => {
          const changed = JSON.parse(JSON.stringify(value)) as Envelope;
          changed.entry[0]!.changes[0]!.value.metadata['phone_number_id'] = id;
          return signedJson('receipt (another number id)', changed);
        }),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(receipt, fc.constantFrom<unknown>('statuses', 'account_update', '', null, 7))
        .map(([value, field]) => {
          const changed = JSON.parse(JSON.stringify(value)) as Envelope;
          changed.entry[0]!.changes[0]!.field = field;
          return signedJson('receipt (another field)', changed);
        }),
    },
    { weight: 6, arbitrary: FREE.map((value) => signedJson('random json', value)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<unknown>({}, [], null, 0, '""', { entry: null }, { entry: {} }, { entry: [null, 1, 'x', []] }, { entry: [{ changes: [null, { value: null }, { value: [] }, { value: { statuses: {} } }] }] }, { __proto__: { entry: [] } }).map((value) =>
        signedJson('odd shape', value),
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom<'array' | 'object'>('array', 'object'), fc.constantFrom(64, 1_000, 10_000, 100_000))
        .map(([kind, depth]): CloudBody => ({ family: `body:deep json (${kind})`, bytes: Buffer.from(nested(kind, depth)), signature: 'right', expect: [200] })),
    },
    {
      weight: 6,
      arbitrary: fc
        .oneof(
          fc.uint8Array({ minLength: 1, maxLength: 1024 }).map((bytes) => Buffer.from(bytes)),
          fc.constantFrom('', ' ', '{', '{"entry":[', 'nul', "{'entry':[]}", '{"a":1}}', 'NaN', '\u00a0{}', '{"entry":[]}\u0000').map((text) => Buffer.from(text, 'utf8')),
          receipt.chain((value) => fc.double({ min: 0, max: 0.999, noNaN: true }).map((at) => Buffer.from(JSON.stringify(value)).subarray(0, Math.floor(JSON.stringify(value).length * at)))),
        )
        .filter((bytes) => !isJson(bytes))
        .map((bytes): CloudBody => ({ family: 'body:not json', bytes, signature: 'right', expect: [400] })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom([0xff], [0xc3, 0x28], [0x80], [0xed, 0xa0, 0x80], [0xfe, 0xff])
        .map((bad): CloudBody => ({
          family: 'body:invalid utf-8 in a string',
          bytes: Buffer.concat([Buffer.from('{"entry":[{"changes":[{"value":{"statuses":[{"id":"wamid.a'), Buffer.from(bad), Buffer.from('b","status":"read"}]}}]}]}')]),
          signature: 'right',
          // The signature is over the bytes; a decoder may replace the bytes (and take it) or refuse them.
          expect: [200, 400],
        })),
    },
    {
      weight: 14,
      arbitrary: fc
        .tuple(receipt, fc.constantFrom<CloudBody['signature']>('none', 'wrong', 'other-body', 'malformed', 'upper-case hex', 'two headers', 'upper-case prefix', 'padded'))
        .map(([value, signature]): CloudBody => ({
          family: `signature:${signature}`,
          bytes: Buffer.from(JSON.stringify(value), 'utf8'),
          signature,
          // Hex digits are hex digits in either case, Node trims a header's surrounding spaces, and of a repeated
          // header the valid one is enough; an upper-case algorithm name is a reading a product may refuse.
          expect: signature === 'upper-case hex' || signature === 'padded' || signature === 'two headers' ? [200] : signature === 'upper-case prefix' ? [200, 401] : [401],
        })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(CLOUD_MAX_BODY - 1, CLOUD_MAX_BODY, CLOUD_MAX_BODY + 1, CLOUD_MAX_BODY + 4096), fc.constantFrom<CloudBody['signature']>('right', 'none'))
        .map(([size, signature]): CloudBody => ({
          family: `body:size edge (${size <= CLOUD_MAX_BODY ? 'at most' : 'over'} 3 MiB, ${signature === 'right' ? 'signed' : 'unsigned'})`,
          bytes: paddedReceipt(size, t),
          signature,
          // The size is checked before the signature.
          expect: size > CLOUD_MAX_BODY ? [413] : signature === 'right' ? [200] : [401],
        })),
    },
  );
}

function signatureHeaders(body: CloudBody, t: CloudTarget): string[] {
  const right = signBody(body.bytes, t.appSecret);
  switch (body.signature) {
    case 'right':
      return [`X-Hub-Signature-256: ${right}`];
    case 'none':
      return [];
    case 'wrong':
      return [`X-Hub-Signature-256: ${signBody(body.bytes, `${t.appSecret}x`)}`];
    case 'other-body':
      return [`X-Hub-Signature-256: ${signBody(Buffer.concat([body.bytes, Buffer.from(' ')]), t.appSecret)}`];
    case 'malformed':
      return [`X-Hub-Signature-256: ${['', 'sha256=', 'sha1=0123456789abcdef0123456789abcdef01234567', right.slice(0, -1), `${right}0`, right.replace(/[0-9a-f]$/, 'g'), 'sha256=' + 'z'.repeat(64), right.replace('sha256=', 'sha256:'), `sha256=${'f'.repeat(2000)}`][body.bytes.length % 9]}`];
    case 'upper-case hex':
      return [`X-Hub-Signature-256: sha256=${right.slice('sha256='.length).toUpperCase()}`];
    case 'two headers':
      return [`X-Hub-Signature-256: ${right}`, `X-Hub-Signature-256: ${right}`];
    case 'upper-case prefix':
      return [`X-Hub-Signature-256: ${right.replace('sha256=', 'SHA256=')}`];
    case 'padded':
      return [`X-Hub-Signature-256:   ${right}\t `];
  }
}

// ---------------------------------------------------------------------------------------------- requests

interface PathSpec {
  readonly family: string;
  readonly path: (t: CloudTarget) => string;
  /** Whether the Cloud API webhook answers it (else the TimelinesAI webhook's 404). */
  readonly cloud: boolean;
  /**
   * Where an engine sends it, where that differs from `cloud`: 'engine' when the engine answers it itself
   * (n8n's router takes a multi-segment or percent-encoded path, or one it cannot decode, as its own).
   */
  readonly routes?: Partial<Record<CloudEngine, 'cloud-api' | 'webhook' | 'engine'>>;
}

const PATHS: readonly PathSpec[] = [
  { family: 'path:cloud-api', path: (t) => `${t.prefix}cloud-api`, cloud: true },
  { family: 'path:trailing slash', path: (t) => `${t.prefix}cloud-api/`, cloud: true, routes: { n8n: 'engine' } },
  // Express matches without regard to case; the standalone server's prefix is /whatsapp/ as written.
  { family: 'path:upper-case prefix', path: (t) => `${t.prefix.toUpperCase()}cloud-api`, cloud: true, routes: { standalone: 'webhook', n8n: 'engine' } },
  { family: 'path:other case', path: (t) => `${t.prefix}Cloud-API`, cloud: false },
  { family: 'path:extra segment', path: (t) => `${t.prefix}cloud-api/extra`, cloud: false, routes: { n8n: 'engine' } },
  { family: 'path:two trailing slashes', path: (t) => `${t.prefix}cloud-api//`, cloud: false, routes: { n8n: 'engine' } },
  { family: 'path:double slash', path: (t) => `${t.prefix}/cloud-api`, cloud: false, routes: { n8n: 'engine' } },
  { family: 'path:longer word', path: (t) => `${t.prefix}cloud-apix`, cloud: false },
  { family: 'path:bad percent', path: (t) => `${t.prefix}cloud-api%zz`, cloud: false, routes: { n8n: 'engine' } },
  { family: 'path:bad percent', path: (t) => `${t.prefix}%zzcloud-api`, cloud: false, routes: { n8n: 'engine' } },
  { family: 'path:encoded', path: (t) => `${t.prefix}cloud%2Dapi`, cloud: false, routes: { n8n: 'engine' } },
  { family: 'path:encoded', path: (t) => `${t.prefix}cloud-api%2F`, cloud: false, routes: { n8n: 'engine' } },
  { family: 'path:dot segments', path: (t) => `${t.prefix}x/../cloud-api`, cloud: false, routes: { n8n: 'engine' } },
  { family: 'path:semicolon', path: (t) => `${t.prefix}cloud-api;x=1`, cloud: false },
];

/** Whose contract a request on `path` with `method` keeps in `engine`. */
function routeOf(path: PathSpec, method: string, engine: CloudEngine): 'cloud-api' | 'webhook' | 'engine' {
  if (engine === 'n8n' && !N8N_METHODS.has(method)) return 'engine';
  return path.routes?.[engine] ?? (path.cloud ? 'cloud-api' : 'webhook');
}

/** The other methods Node's parser knows, as a client would send them. */
const METHODS_ELSE = ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'SEARCH', 'PURGE', 'LOCK', 'QUERY', 'TRACE'].filter((m) => METHODS.includes(m));

/** `arbitrary` in `tenths` of ten cases, else undefined. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, tenths: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 10 - tenths, arbitrary: fc.constant(undefined) }, { weight: tenths, arbitrary });

interface RequestSpec {
  readonly method: string;
  readonly path: PathSpec;
  readonly query: QuerySpec | undefined;
  readonly body: CloudBody | undefined;
  readonly contentType: string | undefined;
  readonly framing: 'length' | 'chunked';
  readonly cuts: readonly number[];
  readonly connection: 'close' | 'keep-alive' | 'none';
}

function requestArb(t: CloudTarget): fc.Arbitrary<RequestSpec> {
  const path = fc.oneof({ weight: 30, arbitrary: fc.constant(PATHS[0]!) }, { weight: 10, arbitrary: fc.constantFrom(...PATHS.slice(1)) });
  const common = {
    path,
    contentType: fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''),
    framing: fc.oneof({ weight: 8, arbitrary: fc.constant('length' as const) }, { weight: 2, arbitrary: fc.constant('chunked' as const) }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
    connection: fc.constantFrom('close' as const, 'keep-alive' as const, 'none' as const),
  };
  return fc.oneof(
    { weight: 40, arbitrary: fc.record({ ...common, method: fc.constant('GET'), query: queryArb(t), body: sometimes(bodyArb(t), 1) }) },
    { weight: 50, arbitrary: fc.record({ ...common, method: fc.constant('POST'), query: sometimes(queryArb(t), 1), body: bodyArb(t) }) },
    { weight: 10, arbitrary: fc.record({ ...common, method: fc.constantFrom(...METHODS_ELSE), query: sometimes(queryArb(t), 5), body: sometimes(bodyArb(t), 5) }) },
  );
}

function chunked(bytes: Buffer, cuts: readonly number[]): Buffer {
  const points = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const to of [...points, bytes.length]) {
    if (to > from) parts.push(Buffer.from(`${(to - from).toString(16)}\r\n`), bytes.subarray(from, to), Buffer.from('\r\n'));
    from = to;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Node's default limit on a request's line and headers (--max-http-header-size). */
const NODE_HEADER_LIMIT = 16 * 1024;

function buildRequest(spec: RequestSpec, t: CloudTarget): CloudCase {
  const url = spec.path.path(t) + (spec.query ? `?${spec.query.query}` : '');
  const lines = [`${spec.method} ${url} HTTP/1.1`, 'Host: 127.0.0.1'];
  if (spec.contentType !== undefined) lines.push(`Content-Type: ${spec.contentType}`);
  if (spec.body) lines.push(...signatureHeaders(spec.body, t));
  if (spec.connection !== 'none') lines.push(`Connection: ${spec.connection}`);
  const payload = spec.body?.bytes ?? Buffer.alloc(0);
  if (spec.body) lines.push(spec.framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${payload.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const wire = spec.body && spec.framing === 'chunked' ? chunked(payload, spec.cuts) : payload;
  const family = [spec.path.family, spec.method === 'GET' || spec.method === 'POST' ? `method:${spec.method}` : 'method:other', ...(spec.method === 'POST' ? [spec.body!.family.replace(/ \(.*/, '')] : spec.query ? [spec.query.family.replace(/ \(.*/, '')] : [])].join(' | ');
  const label = `${spec.method} ${url.length > 100 ? `${url.slice(0, 80)}…(${url.length} chars)` : url}${spec.body ? ` ${spec.body.family} ${payload.length}B signature=${spec.body.signature}` : ''}${spec.framing === 'chunked' && spec.body ? ' chunked' : ''}${spec.contentType === undefined ? '' : ` content-type=${JSON.stringify(spec.contentType)}`}`;
  const base = { family, label, segments: [head, wire], head: spec.method === 'HEAD' };
  if (head.length > NODE_HEADER_LIMIT) return { ...base, contract: 'engine', why: 'over Node’s header limit: Node’s own 431' };
  const route = routeOf(spec.path, spec.method, t.engine ?? 'node-red');
  if (route === 'engine') return { ...base, contract: 'engine', why: `${spec.method} ${spec.path.family}: the engine answers it itself` };
  if (route === 'webhook') return { ...base, contract: 'webhook', status: [404], why: 'not the Cloud API path: the TimelinesAI webhook knows no such token' };
  if (spec.method === 'GET') {
    const answer = verificationOf(spec.query?.query ?? '', t.verifyToken);
    return answer.status === 200
      ? { ...base, contract: 'cloud-api', status: [200], why: 'a verification with the verify token', challenge: answer.challenge }
      : { ...base, contract: 'cloud-api', status: [403], why: 'a verification without hub.mode=subscribe, the verify token and a challenge' };
  }
  if (spec.method === 'POST') return { ...base, contract: 'cloud-api', status: spec.body!.expect, why: `a POST, ${spec.body!.family}, signature ${spec.body!.signature}` };
  return { ...base, contract: 'cloud-api', status: [405], why: `${spec.method} is neither GET nor POST` };
}

/** Requests Node's server or the route answer in their own way, on purpose. */
function specialCases(t: CloudTarget): CloudCase[] {
  const path = `${t.prefix}cloud-api`;
  const text = (value: string) => Buffer.from(value, 'latin1');
  const receipt = Buffer.from(JSON.stringify(envelope({ messaging_product: 'whatsapp', metadata: metadata(t), statuses: [{ id: 'wamid.special', status: 'read', timestamp: '1' }] })));
  return [
    {
      family: 'special:huge query',
      label: 'GET with a 17 KiB query (over Node’s header limit)',
      segments: [text(`GET ${path}?hub.mode=subscribe&x=${'y'.repeat(17 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
      head: false,
      contract: 'engine',
      why: 'Node answers 431 itself',
    },
    {
      family: 'special:endless body',
      label: 'POST with Content-Length of 1 GiB, 3 MiB + 64 KiB sent, then waiting',
      segments: [text(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 ** 30}\r\n\r\n`), Buffer.alloc(CLOUD_MAX_BODY + 64 * 1024, 0x20)],
      head: false,
      // n8n reads the whole body itself before the trigger runs: what it answers then is its own.
      ...(t.engine === 'n8n' ? { contract: 'engine' as const } : { contract: 'cloud-api' as const, status: [413] }),
      why: 'more than 3 MiB of body has arrived',
    },
    ...[CLOUD_MAX_BODY, CLOUD_MAX_BODY + 1].map((size): CloudCase => {
      const padded = paddedReceipt(size, t);
      return {
        family: 'special:size limit',
        label: `signed receipt of ${size} bytes (the limit ${size > CLOUD_MAX_BODY ? '+ 1' : 'exactly'})`,
        segments: [text(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Hub-Signature-256: ${signBody(padded, t.appSecret)}\r\nContent-Length: ${padded.length}\r\n\r\n`), padded],
        head: false,
        contract: 'cloud-api',
        status: [size > CLOUD_MAX_BODY ? 413 : 200],
        why: size > CLOUD_MAX_BODY ? 'over 3 MiB' : 'a signed receipt of exactly 3 MiB',
      };
    }),
    {
      family: 'special:expect 100-continue',
      label: 'signed POST with Expect: 100-continue',
      segments: [text(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nX-Hub-Signature-256: ${signBody(receipt, t.appSecret)}\r\nContent-Length: ${receipt.length}\r\n\r\n`), receipt],
      head: false,
      contract: 'cloud-api',
      status: [200],
      why: 'a signed receipt',
    },
    {
      family: 'special:CONNECT',
      label: 'CONNECT to the Cloud API path',
      segments: [text(`CONNECT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)],
      head: false,
      contract: 'engine',
      why: 'Node closes a CONNECT no listener takes',
    },
  ];
}

export interface CloudCaseOptions {
  readonly seed: number;
  readonly requests: number;
}

/** The Cloud API requests of one run: the same for a given seed, target and count. */
export function cloudApiCases(t: CloudTarget, options: CloudCaseOptions): CloudCase[] {
  return [...fc.sample(requestArb(t), { seed: options.seed, numRuns: options.requests }).map((spec) => buildRequest(spec, t)), ...specialCases(t)];
}

// ---------------------------------------------------------------------------------------------- checks

/** How `outcome` breaks the Cloud API webhook's contract for `c` (empty when it keeps it). */
export function cloudApiViolations(outcome: Outcome, c: Pick<CloudCase, 'status' | 'why' | 'challenge' | 'head'>): string[] {
  if (outcome.kind === 'timeout') return [`no answer within ${outcome.ms} ms (the connection stayed open${outcome.received.length ? ', partial answer' : ''})`];
  if (outcome.kind === 'closed') return [`connection closed without an answer${outcome.error ? ` (${outcome.error})` : ''}${outcome.received.length ? `, after ${outcome.received.length} bytes` : ''}`];
  if (outcome.kind === 'malformed') return [`bytes that are not an HTTP response: ${printable(outcome.received, 80)}`];
  const { status, headers, body } = outcome.response;
  const found: string[] = [];
  if (!CLOUD_API_STATUSES.has(status)) found.push(`status ${status} is not one of the Cloud API webhook's`);
  if (c.status && !c.status.includes(status)) found.push(`status ${status} where the contract says ${c.status.join(' or ')} (${c.why})`);
  const type = headers['content-type'] ?? '';
  if (status === 405 && headers.allow !== 'GET, POST') found.push(`405 without "Allow: GET, POST" (allow: ${JSON.stringify(headers.allow)})`);
  if (status === 503 && !/^\d+$/.test(headers['retry-after'] ?? '')) found.push('503 without a Retry-After in seconds');
  if (status === 200 && c.challenge !== undefined) {
    if (!/^text\/plain\b/i.test(type)) found.push(`the challenge's content-type is ${JSON.stringify(type)}, not text/plain`);
    if (!c.head && body.toString('utf8') !== c.challenge) found.push(`the body is not the challenge ${JSON.stringify(c.challenge.slice(0, 40))}: ${printable(body, 60)}`);
    return found;
  }
  if (!/^application\/json\b/i.test(type)) found.push(`content-type is ${type ? JSON.stringify(type) : 'missing'}, not application/json`);
  if (c.head) return found;
  const json = jsonBodyOf(body, found);
  if (!json) return found;
  const { parsed } = json;
  found.push(...errorBodyViolations(status, parsed));
  const message = (parsed as { message?: unknown } | null)?.message;
  if (status === 200 && message !== 'Received.') found.push(`a taken POST's message is ${JSON.stringify(message)}, not "Received."`);
  if (status === 401 && (typeof message !== 'string' || !message.startsWith('The webhook call was refused: '))) found.push('a 401 that does not say the call was refused and why');
  if (status === 403 && (typeof message !== 'string' || !message.startsWith('The webhook verification was refused: '))) found.push('a 403 that does not say the verification was refused and why');
  return found;
}

function violations(c: CloudCase, outcome: Outcome): string[] {
  if (c.contract === 'cloud-api') return cloudApiViolations(outcome, c);
  if (c.contract === 'webhook') return contractViolations(outcome, { head: c.head, oracle: c.status ? { status: c.status, why: c.why } : undefined });
  return outcome.kind === 'timeout' ? [`the engine neither answered nor closed within ${outcome.ms} ms`] : [];
}

export interface CloudRan {
  readonly cases: readonly CloudCase[];
  readonly outcomes: readonly Outcome[];
  readonly ms: number;
}

export async function runCloud(port: number, cases: readonly CloudCase[], concurrency: number): Promise<CloudRan> {
  const started = Date.now();
  const outcomes = await pool(cases.length, concurrency, (i) => exchange({ port, segments: cases[i]!.segments, head: cases[i]!.head, timeoutMs: ANSWER_TIMEOUT_MS }));
  return { cases, outcomes, ms: Date.now() - started };
}

function finding(c: Pick<CloudCase, 'family' | 'label' | 'segments'>, outcome: Outcome, problems: readonly string[]): Finding {
  return { family: c.family, label: c.label, request: printable(Buffer.concat([...c.segments]), 300), got: describeOutcome(outcome), problems };
}

export function checkCloud(ran: CloudRan): Finding[] {
  const found: Finding[] = [];
  ran.cases.forEach((c, i) => {
    const problems = violations(c, ran.outcomes[i]!);
    if (problems.length > 0) found.push(finding(c, ran.outcomes[i]!, problems));
  });
  return found;
}

/** Counts of statuses per family part, printed after a run. */
export function cloudHistogram(ran: CloudRan): string {
  const tables = new Map<string, Map<string, number>>();
  ran.cases.forEach((c, i) => {
    for (const part of c.family.split(' | ')) {
      const counts = tables.get(part) ?? new Map<string, number>();
      const status = String(statusOf(ran.outcomes[i]!));
      counts.set(status, (counts.get(status) ?? 0) + 1);
      tables.set(part, counts);
    }
  });
  return [...tables.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([family, counts]) => `  ${family}: ${[...counts.entries()].sort().map(([s, n]) => `${s}×${n}`).join(' ')}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------- single calls

/** A genuine signed receipt for a message nobody sent (taken: 200), as raw bytes. */
export function signedReceipt(t: CloudTarget, wamid: string, extraHeaders: readonly string[] = []): { head: Buffer; body: Buffer } {
  const body = Buffer.from(JSON.stringify(envelope({ messaging_product: 'whatsapp', metadata: metadata(t), statuses: [{ id: wamid, status: 'delivered', timestamp: '1700000000', recipient_id: '14151231234' }] })));
  const head = Buffer.from(
    [`POST ${t.prefix}cloud-api HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `X-Hub-Signature-256: ${signBody(body, t.appSecret)}`, `Content-Length: ${body.length}`, ...extraHeaders, '', ''].join('\r\n'),
    'latin1',
  );
  return { head, body };
}

export function verificationRequest(t: CloudTarget, challenge: string, extraHeaders: readonly string[] = []): Buffer {
  return Buffer.from(
    [`GET ${t.prefix}cloud-api?hub.mode=subscribe&hub.verify_token=${enc(t.verifyToken)}&hub.challenge=${enc(challenge)} HTTP/1.1`, 'Host: 127.0.0.1', ...extraHeaders, '', ''].join('\r\n'),
    'latin1',
  );
}

/** A verification and a signed receipt, each answered as the contract says: the Cloud API webhook works. */
export async function cloudLiveness(port: number, t: CloudTarget, label: string): Promise<Finding[]> {
  const found: Finding[] = [];
  const get = verificationRequest(t, '4242', ['Connection: close']);
  const got = await exchange({ port, segments: [get], timeoutMs: ANSWER_TIMEOUT_MS });
  const getProblems = cloudApiViolations(got, { status: [200], why: label, challenge: '4242', head: false });
  if (getProblems.length) found.push(finding({ family: 'liveness:verification', label, segments: [get] }, got, getProblems));
  const post = signedReceipt(t, `wamid.liveness-${label.replace(/\W+/g, '-')}`, ['Connection: close']);
  const posted = await exchange({ port, segments: [post.head, post.body], timeoutMs: ANSWER_TIMEOUT_MS });
  const postProblems = cloudApiViolations(posted, { status: [200], why: label, head: false });
  if (postProblems.length) found.push(finding({ family: 'liveness:receipt', label, segments: [post.head, post.body] }, posted, postProblems));
  return found;
}

/** Verifications and signed receipts sent one byte at a time: answered as if sent at once. */
export async function cloudSlowClients(port: number, t: CloudTarget, dripMs: number): Promise<Finding[]> {
  const receipt = signedReceipt(t, 'wamid.dripped', ['Connection: close']);
  const chunkedHead = Buffer.from(
    [`POST ${t.prefix}cloud-api HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `X-Hub-Signature-256: ${signBody(receipt.body, t.appSecret)}`, 'Transfer-Encoding: chunked', 'Connection: close', '', ''].join('\r\n'),
    'latin1',
  );
  const unsigned = Buffer.from(receipt.head.toString('latin1').replace(/X-Hub-Signature-256: [^\r]*\r\n/, ''), 'latin1');
  const runs: { label: string; segments: Buffer[]; dripOnly?: number[]; status: number; challenge?: string }[] = [
    { label: 'signed receipt, headers dripped', segments: [receipt.head, receipt.body], dripOnly: [0], status: 200 },
    { label: 'signed receipt, body dripped', segments: [receipt.head, receipt.body], dripOnly: [1], status: 200 },
    { label: 'signed chunked receipt, every byte dripped', segments: [chunkedHead, chunked(receipt.body, [0.3, 0.6])], status: 200 },
    { label: 'unsigned receipt, every byte dripped', segments: [unsigned, receipt.body], status: 401 },
    { label: 'verification, every byte dripped', segments: [verificationRequest(t, 'dripped-challenge', ['Connection: close'])], status: 200, challenge: 'dripped-challenge' },
  ];
  const outcomes = await Promise.all(runs.map((r) => exchange({ port, segments: r.segments, dripMs, ...(r.dripOnly ? { dripOnly: r.dripOnly } : {}), timeoutMs: ANSWER_TIMEOUT_MS * 3 })));
  const found: Finding[] = [];
  runs.forEach((r, i) => {
    const problems = cloudApiViolations(outcomes[i]!, { status: [r.status], why: r.label, head: false, ...(r.challenge ? { challenge: r.challenge } : {}) });
    if (problems.length) found.push(finding({ family: `slow:${r.label}`, label: r.label, segments: r.segments }, outcomes[i]!, problems));
  });
  return found;
}

/**
 * `count` signed receipts on as many connections at once: each answered 200. `engineRefusal`: answers the
 * engine gives itself before the webhook runs (n8n's own 503 while it thinks its database is away), counted apart.
 */
export async function cloudFlood(
  port: number,
  t: CloudTarget,
  count: number,
  timeoutMs = 60_000,
  engineRefusal: (outcome: Outcome) => boolean = () => false,
): Promise<{ findings: Finding[]; ms: number; refusedByEngine: number }> {
  const started = Date.now();
  const requests = Array.from({ length: count }, (_, i) => signedReceipt(t, `wamid.flood-${i}`, ['Connection: close']));
  const outcomes = await Promise.all(requests.map((r) => exchange({ port, segments: [Buffer.concat([r.head, r.body])], timeoutMs })));
  const found: Finding[] = [];
  outcomes.forEach((outcome, i) => {
    if (engineRefusal(outcome)) return;
    const problems = cloudApiViolations(outcome, { status: [200], why: 'a signed receipt in a flood', head: false });
    if (problems.length) found.push(finding({ family: 'flood:cloud-api', label: `flood receipt ${i}`, segments: [requests[i]!.head, requests[i]!.body] }, outcome, problems));
  });
  return { findings: found, ms: Date.now() - started, refusedByEngine: outcomes.filter(engineRefusal).length };
}
