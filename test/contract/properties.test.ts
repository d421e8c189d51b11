import fc from 'fast-check';
import { normalizeChatId, normalizePhone, parseSendRequest, validateSendPayload } from '../../shared/contract';
import type { Result } from '../../shared/rejection';
import { valueOf } from './helpers';

const KNOWN = [
  'action',
  'text',
  'file_url',
  'file_name',
  'chat_id',
  'jid',
  'phone',
  'chat_name',
  'whatsapp_account_phone',
  'whatsapp account phone',
];

const digits = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength });

/** 7 to 15 digits, not starting with 0: a number in international format. */
const phoneDigits = fc.tuple(fc.constantFrom(...'123456789'), digits(6, 14)).map(([first, rest]) => first + rest);

/** The digits as a person or CRM might write them: random spaces, dashes, dots and parentheses, a prefix. */
const decoratedPhone = phoneDigits.chain((plain) =>
  fc
    .record({
      prefix: fc.constantFrom('', '+', '00'),
      gaps: fc.array(fc.string({ unit: fc.constantFrom(' ', '-', '.', '(', ')'), maxLength: 3 }), {
        minLength: plain.length + 1,
        maxLength: plain.length + 1,
      }),
    })
    .map(({ prefix, gaps }) => ({
      digits: plain,
      text: gaps[0] + prefix + [...plain].map((digit, i) => digit + gaps[i + 1]).join(''),
    })),
);

const nonBlank = fc.string({ minLength: 1 }).filter((s) => s.trim() !== '');

/** A request that must be accepted: a text or a file or both, at least one recipient, maybe an account. */
const validRequest = fc
  .record(
    {
      text: fc.oneof(nonBlank, fc.constant('')),
      file: fc.option(
        fc.record({ file_url: fc.webUrl(), file_name: nonBlank.filter((name) => !/[/\\]/.test(name)) }),
        { nil: undefined },
      ),
      recipients: fc
        .record(
          {
            chat_id: fc.oneof(fc.maxSafeNat(), digits(1, 20)),
            jid: fc
              .tuple(digits(1, 20), fc.constantFrom('@s.whatsapp.net', '@c.us', '@g.us', '@lid', '@S.WhatsApp.Net'))
              .map(([user, domain]) => user + domain),
            phone: fc.oneof(
              decoratedPhone.map((phone) => phone.text),
              phoneDigits.map(Number),
            ),
            chat_name: nonBlank,
          },
          { requiredKeys: [] },
        )
        .filter((recipients) => Object.keys(recipients).length > 0),
      account: fc.option(
        decoratedPhone.map((phone) => phone.text),
        { nil: undefined },
      ),
    },
  )
  .filter(({ text, file }) => text !== '' || file !== undefined)
  .map(({ text, file, recipients, account }) => ({
    action: 'send',
    text,
    ...file,
    ...recipients,
    ...(account === undefined ? {} : { whatsapp_account_phone: account }),
  }));

// Keys that look like array indexes are listed first by JavaScript whatever the order received.
const extraKey = fc.string().filter((key) => !KNOWN.includes(key) && !/^(0|[1-9][0-9]*)$/.test(key));
const extras = fc.uniqueArray(fc.tuple(extraKey, fc.jsonValue()), { selector: ([key]) => key, maxLength: 6 });

/** A value that may be valid for some field, to reach the normalisers as well as the schema's refusals. */
const fieldValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('send', '', ' ', '0', '+14151231234', '0015105566777', '0415', '77234', '1@c.us', 'x@g.us'),
  fc.constantFrom('https://timelines.ai/logo.png', 'ftp://x/y', 'logo.png', 'a/b', null),
  decoratedPhone.map((phone) => phone.text),
  fc.integer(),
  fc.double(),
);
const knownFieldsAnyValue = fc.record(Object.fromEntries(KNOWN.map((key) => [key, fieldValue])), { requiredKeys: [] });

/** A Result of either kind, and a rejection always a 400 with a sentence. */
function expectWellFormed<T>(result: Result<T>): void {
  expect(typeof result.ok).toBe('boolean');
  if (!result.ok) {
    expect(result.rejection.status).toBe(400);
    expect(result.rejection.message).toMatch(/^\S.*\.$/s);
  }
}

describe('properties', () => {
  test('a decorated phone number normalises to its digits', () => {
    fc.assert(
      fc.property(decoratedPhone, ({ digits: plain, text }) => {
        expect(normalizePhone(text)).toEqual({ ok: true, digits: plain });
        const request = valueOf(validateSendPayload({ action: 'send', text: 'hi', phone: text }));
        expect(request.recipient).toEqual({ field: 'phone', value: plain });
      }),
    );
  });

  test('a valid request is accepted; extra keys are listed as ignored and change nothing else', () => {
    fc.assert(
      fc.property(validRequest, extras, (request, extra) => {
        const expected = valueOf(validateSendPayload(request));
        expect(expected.ignoredFields).toEqual([]);
        const withExtras = Object.fromEntries([...Object.entries(request), ...extra]);
        const want = { ...expected, ignoredFields: extra.map(([key]) => key) };
        expect(validateSendPayload(withExtras)).toEqual({ ok: true, value: want });
        expect(parseSendRequest(JSON.stringify(withExtras))).toEqual({ ok: true, value: want });
      }),
    );
  });

  test('a chat_id integer and its string form normalise identically', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(5), (id, zeros) => {
        const text = '0'.repeat(zeros) + String(id);
        expect(normalizeChatId(text)).toBe(normalizeChatId(id));
        expect(validateSendPayload({ action: 'send', text: 'hi', chat_id: text })).toEqual(
          validateSendPayload({ action: 'send', text: 'hi', chat_id: id }),
        );
      }),
    );
  });

  test('any JSON value gets a Result, never an exception', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectWellFormed(validateSendPayload(value));
        expectWellFormed(parseSendRequest(JSON.stringify(value) ?? 'null'));
      }),
      { numRuns: 500 },
    );
  });

  test('any values in the known fields get a Result, never an exception', () => {
    fc.assert(
      fc.property(knownFieldsAnyValue, fc.boolean(), (payload, forceSend) => {
        const request = forceSend ? { ...payload, action: 'send' } : payload;
        expectWellFormed(validateSendPayload(request));
        expectWellFormed(parseSendRequest(JSON.stringify(request)));
      }),
      { numRuns: 1000 },
    );
  });

  test('any text or bytes as a body get a Result, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (body) => {
        expectWellFormed(parseSendRequest(body));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => expectWellFormed(parseSendRequest(Buffer.from(bytes)))),
    );
  });

  test('a body JSON.parse refuses is located by line and column', () => {
    // Break valid JSON by deleting one character: the commonest way bodies go wrong.
    const damaged = fc
      .tuple(fc.json(), fc.nat())
      .map(([json, at]) => json.slice(0, at % json.length) + json.slice((at % json.length) + 1))
      .filter((text) => text.trim() !== '' && !parses(text));
    fc.assert(
      fc.property(damaged, (text) => {
        const result = parseSendRequest(text);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.rejection.message).toMatch(/^The body is not valid JSON: .+ at line \d+, column \d+\.$/s);
      }),
      { numRuns: 500 },
    );
  });
});

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
