import { isHttpUrl, normalizeChatId, normalizeFileName, normalizeJid, normalizePhone } from '../../shared/contract';

describe('normalizePhone', () => {
  test.each([
    ['+14151231234', '14151231234'],
    ['14151231234', '14151231234'],
    ['+1 (415) 123-1234', '14151231234'],
    ['1.415.123.1234', '14151231234'],
    [' +1 415 123 1234 ', '14151231234'],
    ['0014151231234', '14151231234'],
    ['00 44 20 7946 0958', '442079460958'],
    ['+49 1234567', '491234567'],
    [14151231234, '14151231234'],
  ])('%j is %s', (input, digits) => {
    expect(normalizePhone(input)).toEqual({ ok: true, digits });
  });

  test.each([['0415123456'], ['+0415123456'], ['(0) 415 123 456'], ['000']])('%j starts with 0', (input) => {
    expect(normalizePhone(input)).toEqual({ ok: false, reason: 'leading-zero' });
  });

  test.each([
    ['123456'],
    ['1234567890123456'],
    ['+1 415 CALL NOW'],
    ['1+4151231234'],
    ['+'],
    [''],
    [123456],
    [-14151231234],
    [14151231234.5],
    [Number.MAX_SAFE_INTEGER + 1],
    [null],
    [['14151231234']],
  ])('%j is not a phone number', (input) => {
    expect(normalizePhone(input)).toEqual({ ok: false, reason: 'format' });
  });
});

describe('normalizeJid', () => {
  test.each([
    ['14151231234@s.whatsapp.net', '14151231234@s.whatsapp.net'],
    [' 14151231234@S.WhatsApp.NET ', '14151231234@s.whatsapp.net'],
    ['14151231234@c.us', '14151231234@s.whatsapp.net'],
    ['14151231234@C.US', '14151231234@s.whatsapp.net'],
    ['120363025246125486@g.us', '120363025246125486@g.us'],
    ['14151231234-1600000000@G.us', '14151231234-1600000000@g.us'],
    ['208851724345536@lid', '208851724345536@lid'],
  ])('%j is %s', (input, jid) => {
    expect(normalizeJid(input)).toBe(jid);
  });

  test.each([
    ['14151231234'],
    ['14151231234@'],
    ['@s.whatsapp.net'],
    ['1-2@s.whatsapp.net'],
    ['1-2-3@g.us'],
    ['abc@g.us'],
    ['14151231234@broadcast'],
    ['14151231234@s.whatsapp.net.evil.com'],
    ['1@c.us\n2@c.us'],
  ])('%j is not a JID', (input) => {
    expect(normalizeJid(input)).toBeUndefined();
  });
});

describe('normalizeChatId', () => {
  test.each([
    ['77234', '77234'],
    ['0077234', '77234'],
    [' 77234 ', '77234'],
    ['0', '0'],
    ['000', '0'],
    [77234, '77234'],
    [0, '0'],
  ])('%j is %s', (input, id) => {
    expect(normalizeChatId(input)).toBe(id);
  });

  test.each([[''], ['7 7'], ['+77234'], ['77234.0'], [-1], [1.5], [2 ** 53], [null], [true]])(
    '%j is not a chat id',
    (input) => {
      expect(normalizeChatId(input)).toBeUndefined();
    },
  );
});

describe('isHttpUrl', () => {
  test.each([['https://timelines.ai/logo.png'], ['http://example.com'], [' HTTPS://example.com/a b.pdf ']])(
    '%j is accepted',
    (url) => expect(isHttpUrl(url)).toBe(true),
  );
  test.each([['ftp://example.com/a'], ['example.com/a.png'], ['data:text/plain,hi'], ['file:///etc/passwd'], ['']])(
    '%j is refused',
    (url) => expect(isHttpUrl(url)).toBe(false),
  );
});

describe('normalizeFileName', () => {
  test('trims the name', () => expect(normalizeFileName(' logo.png ')).toBe('logo.png'));
  test.each([[''], [' '], ['a/b'], ['a\\b']])('%j is refused', (name) => expect(normalizeFileName(name)).toBeUndefined());
});
