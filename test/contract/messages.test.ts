import { parseSendRequest, validateSendPayload } from '../../shared/contract';
import { rejectionOf, VALID } from './helpers';

/** Each case: the payload, the field the rejection must name (or none), and the exact sentence. */
type Case = readonly [name: string, payload: unknown, field: string | undefined, message: string];

const BODY_NOT_OBJECT =
  'The request body must be a JSON object such as {"action": "send", "phone": "+14151231234", "text": "hello"}.';
const ACTION_REQUIRED = 'Field "action" is required and must be "send".';
const TEXT_REQUIRED = 'Field "text" is required; it may be empty only when "file_url" is given.';
const TEXT_NOT_STRING = 'Field "text" must be a string.';
const TEXT_EMPTY = 'Field "text" must not be empty unless "file_url" is given.';
const FILE_URL = 'Field "file_url" must be an http:// or https:// URL that downloads the file directly.';
const FILE_NAME_REQUIRED = 'Field "file_name" is required when "file_url" is given.';
const FILE_NAME_WITHOUT_URL =
  'Field "file_name" was given without "file_url"; add the file\'s URL or remove "file_name".';
const FILE_NAME_INVALID = 'Field "file_name" must be a non-empty file name without "/" or "\\", such as "logo.png".';
const TEXT_TOO_LONG = (length: number) => `Field "text" is ${length} characters long; WhatsApp accepts at most 65536 in one message.`;
const FILE_NAME_TOO_LONG = (bytes: number) =>
  `Field "file_name" is ${bytes} bytes long in UTF-8; a file name may be at most 255 bytes, as the recipient's phone saves the file under it.`;
const NO_RECIPIENT = 'One recipient field is required: "chat_id", "jid", "phone" or "chat_name".';
const CHAT_ID = 'Field "chat_id" must be a chat id made of digits, as a string or an integer, such as "77234".';
const JID = 'Field "jid" must be a WhatsApp JID such as "14151231234@s.whatsapp.net" or "120363025246125486@g.us".';
const CHAT_NAME = 'Field "chat_name" must be a non-empty string with the chat\'s exact name.';
const DISAGREE = 'Fields "whatsapp_account_phone" and "whatsapp account phone" disagree; send only one.';
const phoneFormat = (field: string) =>
  `Field "${field}" must be a phone number in international format with its country code, such as "+14151231234".`;
const phoneLeadingZero = (field: string) =>
  `Field "${field}" starts with 0: write it in international format with the country code first, such as "+14151231234".`;

const FILE = { file_url: 'https://timelines.ai/logo.png', file_name: 'logo.png' };
const { phone: _phone, ...NO_RECIPIENT_FIELDS } = VALID;

const cases: readonly Case[] = [
  ['an array body', [VALID], undefined, BODY_NOT_OBJECT],
  ['a string body', 'send', undefined, BODY_NOT_OBJECT],
  ['a null body', null, undefined, BODY_NOT_OBJECT],
  ['a number body', 42, undefined, BODY_NOT_OBJECT],

  ['no action', { text: 'hi', phone: VALID.phone }, 'action', ACTION_REQUIRED],
  ['another action', { ...VALID, action: 'delete' }, 'action', 'Field "action" must be "send"; got "delete".'],
  ['action in capitals', { ...VALID, action: 'SEND' }, 'action', 'Field "action" must be "send"; got "SEND".'],
  ['a null action', { ...VALID, action: null }, 'action', 'Field "action" must be "send"; got null.'],
  ['a numeric action', { ...VALID, action: 1 }, 'action', 'Field "action" must be "send"; got 1.'],
  [
    'a long object action',
    { ...VALID, action: { verb: 'send', target: 'everyone', urgent: true } },
    'action',
    'Field "action" must be "send"; got {"verb":"send","target":"everyone","urge….',
  ],
  ['a long action', { ...VALID, action: 'x'.repeat(100) }, 'action', `Field "action" must be "send"; got "${'x'.repeat(40)}…".`],

  ['no text', { action: 'send', phone: VALID.phone }, 'text', TEXT_REQUIRED],
  ['no text, even with a file', { action: 'send', phone: VALID.phone, ...FILE }, 'text', TEXT_REQUIRED],
  ['a null text', { ...VALID, text: null }, 'text', TEXT_REQUIRED],
  ['a numeric text', { ...VALID, text: 5 }, 'text', TEXT_NOT_STRING],
  ['an object text', { ...VALID, text: { body: 'hi' } }, 'text', TEXT_NOT_STRING],
  ['an empty text without a file', { ...VALID, text: '' }, 'text', TEXT_EMPTY],
  ['a blank text without a file', { ...VALID, text: ' \n\t ' }, 'text', TEXT_EMPTY],

  ['an ftp file_url', { ...VALID, ...FILE, file_url: 'ftp://timelines.ai/logo.png' }, 'file_url', FILE_URL],
  ['a relative file_url', { ...VALID, ...FILE, file_url: '/logo.png' }, 'file_url', FILE_URL],
  ['a javascript: file_url', { ...VALID, ...FILE, file_url: 'javascript:alert(1)' }, 'file_url', FILE_URL],
  ['a file: file_url', { ...VALID, ...FILE, file_url: 'file:///etc/passwd' }, 'file_url', FILE_URL],
  ['a numeric file_url', { ...VALID, ...FILE, file_url: 7 }, 'file_url', FILE_URL],
  ['an empty file_url', { ...VALID, ...FILE, file_url: '' }, 'file_url', FILE_URL],

  ['file_url without file_name', { ...VALID, file_url: FILE.file_url }, 'file_name', FILE_NAME_REQUIRED],
  ['file_url with a null file_name', { ...VALID, ...FILE, file_name: null }, 'file_name', FILE_NAME_REQUIRED],
  ['file_name without file_url', { ...VALID, file_name: 'logo.png' }, 'file_name', FILE_NAME_WITHOUT_URL],
  ['file_name with a null file_url', { ...VALID, ...FILE, file_url: null }, 'file_name', FILE_NAME_WITHOUT_URL],
  ['an empty file_name', { ...VALID, ...FILE, file_name: '' }, 'file_name', FILE_NAME_INVALID],
  ['a blank file_name', { ...VALID, ...FILE, file_name: '   ' }, 'file_name', FILE_NAME_INVALID],
  ['a file_name with a slash', { ...VALID, ...FILE, file_name: '../logo.png' }, 'file_name', FILE_NAME_INVALID],
  ['a file_name with a backslash', { ...VALID, ...FILE, file_name: 'c:\\logo.png' }, 'file_name', FILE_NAME_INVALID],
  ['a numeric file_name', { ...VALID, ...FILE, file_name: 3 }, 'file_name', FILE_NAME_INVALID],

  // WhatsApp's limits, known from the request: refused now rather than failing when sent.
  ['a text one over 65536', { ...VALID, text: 'x'.repeat(65_537) }, 'text', TEXT_TOO_LONG(65_537)],
  ['a text of 70000 beside a file', { ...VALID, ...FILE, text: 'y'.repeat(70_000) }, 'text', TEXT_TOO_LONG(70_000)],
  // An emoji outside the basic plane is two UTF-16 code units: 32769 of them are 65538.
  ['a text of 32769 emoji', { ...VALID, text: '😀'.repeat(32_769) }, 'text', TEXT_TOO_LONG(65_538)],
  ['a file_name one byte over 255', { ...VALID, ...FILE, file_name: `${'n'.repeat(252)}.pdf` }, 'file_name', FILE_NAME_TOO_LONG(256)],
  // "ñ" is 2 bytes in UTF-8: 126 of them and ".pdf" are 256 bytes in 130 characters.
  ['a file_name of 256 bytes in 130 characters', { ...VALID, ...FILE, file_name: `${'ñ'.repeat(126)}.pdf` }, 'file_name', FILE_NAME_TOO_LONG(256)],

  ['no recipient', NO_RECIPIENT_FIELDS, undefined, NO_RECIPIENT],
  [
    'only null recipients',
    { ...NO_RECIPIENT_FIELDS, chat_id: null, jid: null, phone: null, chat_name: null },
    undefined,
    NO_RECIPIENT,
  ],

  ['a chat_id with letters', { ...VALID, chat_id: '12a' }, 'chat_id', CHAT_ID],
  ['an empty chat_id', { ...VALID, chat_id: '' }, 'chat_id', CHAT_ID],
  ['a negative chat_id', { ...VALID, chat_id: -1 }, 'chat_id', CHAT_ID],
  ['a fractional chat_id', { ...VALID, chat_id: 1.5 }, 'chat_id', CHAT_ID],
  ['an unsafe integer chat_id', { ...VALID, chat_id: 2 ** 53 }, 'chat_id', CHAT_ID],
  ['a boolean chat_id', { ...VALID, chat_id: true }, 'chat_id', CHAT_ID],

  ['a jid without a domain', { ...VALID, jid: '14151231234' }, 'jid', JID],
  ['a jid with a wrong domain', { ...VALID, jid: '14151231234@s.whatsapp.com' }, 'jid', JID],
  ['a jid with letters', { ...VALID, jid: 'abc@g.us' }, 'jid', JID],
  ['a jid with a "+"', { ...VALID, jid: '+14151231234@s.whatsapp.net' }, 'jid', JID],
  ['a jid without a user', { ...VALID, jid: '@lid' }, 'jid', JID],
  ['a numeric jid', { ...VALID, jid: 14151231234 }, 'jid', JID],

  ['a phone with letters', { ...VALID, phone: 'call me' }, 'phone', phoneFormat('phone')],
  ['an empty phone', { ...VALID, phone: '' }, 'phone', phoneFormat('phone')],
  ['a short phone', { ...VALID, phone: '+1 415' }, 'phone', phoneFormat('phone')],
  ['a long phone', { ...VALID, phone: '+1 415 123 1234 56789' }, 'phone', phoneFormat('phone')],
  ['a short integer phone', { ...VALID, phone: 123456 }, 'phone', phoneFormat('phone')],
  ['a long integer phone', { ...VALID, phone: 1_000_000_000_000_000 }, 'phone', phoneFormat('phone')],
  ['a fractional phone', { ...VALID, phone: 14151231234.5 }, 'phone', phoneFormat('phone')],
  ['a boolean phone', { ...VALID, phone: true }, 'phone', phoneFormat('phone')],
  ['a phone with two "+"', { ...VALID, phone: '++14151231234' }, 'phone', phoneFormat('phone')],
  ['a national phone', { ...VALID, phone: '0415 123 456' }, 'phone', phoneLeadingZero('phone')],
  ['a short national phone', { ...VALID, phone: '012' }, 'phone', phoneLeadingZero('phone')],
  ['a phone with "+0"', { ...VALID, phone: '+0 415 123 456' }, 'phone', phoneLeadingZero('phone')],

  [
    'a bad whatsapp_account_phone',
    { ...VALID, whatsapp_account_phone: 'main' },
    'whatsapp_account_phone',
    phoneFormat('whatsapp_account_phone'),
  ],
  [
    'a national whatsapp_account_phone',
    { ...VALID, whatsapp_account_phone: '(0510) 556-6777' },
    'whatsapp_account_phone',
    phoneLeadingZero('whatsapp_account_phone'),
  ],
  [
    'a bad "whatsapp account phone"',
    { ...VALID, 'whatsapp account phone': false },
    'whatsapp account phone',
    phoneFormat('whatsapp account phone'),
  ],
  [
    'a national "whatsapp account phone"',
    { ...VALID, 'whatsapp account phone': '0510 556 6777' },
    'whatsapp account phone',
    phoneLeadingZero('whatsapp account phone'),
  ],
  [
    'both account spellings with different numbers',
    { ...VALID, whatsapp_account_phone: '+15105566777', 'whatsapp account phone': '+15105566778' },
    'whatsapp_account_phone',
    DISAGREE,
  ],

  ['an empty chat_name', { ...NO_RECIPIENT_FIELDS, chat_name: '' }, 'chat_name', CHAT_NAME],
  ['a blank chat_name', { ...NO_RECIPIENT_FIELDS, chat_name: '  ' }, 'chat_name', CHAT_NAME],
  ['a numeric chat_name', { ...NO_RECIPIENT_FIELDS, chat_name: 5 }, 'chat_name', CHAT_NAME],

  // Recipients that lose on precedence are still checked: a malformed one is a client bug worth reporting.
  ['a bad phone behind a chat_id', { ...VALID, chat_id: '77234', phone: 'n/a' }, 'phone', phoneFormat('phone')],
  ['a bad chat_name behind a jid', { ...VALID, jid: '1@lid', chat_name: '' }, 'chat_name', CHAT_NAME],
  ['a bad jid behind a chat_id', { ...VALID, chat_id: 1, jid: 'x' }, 'jid', JID],
];

describe('every rejection is a 400 with one exact sentence', () => {
  test.each(cases)('%s', (_name, payload, field, message) => {
    const rejection = rejectionOf(validateSendPayload(payload));
    expect(rejection).toEqual(field === undefined ? { status: 400, message } : { status: 400, message, field });
  });

  test.each(cases)('%s, sent as a JSON body', (_name, payload, field, message) => {
    const rejection = rejectionOf(parseSendRequest(JSON.stringify(payload)));
    expect(rejection).toEqual(field === undefined ? { status: 400, message } : { status: 400, message, field });
  });
});

describe("WhatsApp's limits, at their edges", () => {
  test('a text of exactly 65536 characters, and a file_name of exactly 255 bytes, are accepted', () => {
    expect(validateSendPayload({ ...VALID, text: 'x'.repeat(65_536) }).ok).toBe(true);
    expect(validateSendPayload({ ...VALID, ...FILE, file_name: `${'n'.repeat(251)}.pdf` }).ok).toBe(true);
    expect(validateSendPayload({ ...VALID, ...FILE, file_name: `${'ñ'.repeat(125)}.pdf ` }).ok).toBe(true);
  });

  test('a blank text beside a file is not sent, so its length does not count', () => {
    const request = validateSendPayload({ ...VALID, ...FILE, text: ' '.repeat(70_000) });
    expect(request.ok && request.value.text).toBe('');
  });

  test("an engine's attached file is held to the same file name limit, under its own name or file_name", () => {
    const long = `${'a'.repeat(300)}.png`;
    expect(rejectionOf(validateSendPayload({ ...VALID, text: '' }, { name: long }))).toEqual({ status: 400, message: FILE_NAME_TOO_LONG(304), field: 'file_name' });
    expect(rejectionOf(validateSendPayload({ ...VALID, file_name: long }, { name: 'a.png' }))).toEqual({ status: 400, message: FILE_NAME_TOO_LONG(304), field: 'file_name' });
    expect(validateSendPayload({ ...VALID, file_name: 'short.png' }, { name: long }).ok).toBe(true);
  });
});
