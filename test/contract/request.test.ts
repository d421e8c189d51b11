import { parseSendRequest, validateSendPayload } from '../../shared/contract';
import { valueOf, VALID } from './helpers';

describe('a valid request', () => {
  test('is normalised', () => {
    expect(valueOf(validateSendPayload({ ...VALID, phone: '+1 (415) 123-1234' }))).toEqual({
      text: 'hello',
      recipient: { field: 'phone', value: '14151231234' },
      unusedRecipientFields: [],
      ignoredFields: [],
    });
  });

  test('keeps the text exactly as sent', () => {
    const text = '  Hola *María*,\nsu pedido 😀 está listo  ';
    expect(valueOf(validateSendPayload({ ...VALID, text })).text).toBe(text);
  });

  test('takes a file, trimming its URL and name', () => {
    const request = { ...VALID, file_url: ' https://timelines.ai/logo.png ', file_name: ' logo.png ' };
    expect(valueOf(validateSendPayload(request)).file).toEqual({ url: 'https://timelines.ai/logo.png', name: 'logo.png' });
  });

  test('may have an empty text when it has a file; a blank one becomes empty', () => {
    const file = { file_url: 'https://timelines.ai/logo.png', file_name: 'logo.png' };
    expect(valueOf(validateSendPayload({ ...VALID, ...file, text: '' })).text).toBe('');
    expect(valueOf(validateSendPayload({ ...VALID, ...file, text: ' \n ' })).text).toBe('');
  });

  test('treats null optional fields as absent', () => {
    const request = {
      ...VALID,
      file_url: null,
      file_name: null,
      chat_id: null,
      jid: null,
      chat_name: null,
      whatsapp_account_phone: null,
      'whatsapp account phone': null,
    };
    expect(valueOf(validateSendPayload(request))).toEqual(valueOf(validateSendPayload(VALID)));
  });

  test('lists unknown fields in the order received, and keeps them in the payload', () => {
    const payload = { ...VALID, zeta: 1, alpha: null, 'Phone ': '+1', nested: { chat_id: 'x' } };
    expect(valueOf(validateSendPayload(payload)).ignoredFields).toEqual(['zeta', 'alpha', 'Phone ', 'nested']);
    expect(payload).toHaveProperty('zeta', 1);
  });

  test('accepts the JSON spelling of these through the raw body too', () => {
    const body = '{"action":"send","text":"hi","chat_id":77234,"jid":"1@c.us","source":"crm"}';
    expect(valueOf(parseSendRequest(body))).toEqual({
      text: 'hi',
      recipient: { field: 'chat_id', value: '77234' },
      unusedRecipientFields: ['jid'],
      ignoredFields: ['source'],
    });
  });
});

describe('recipient precedence: chat_id, then jid, then phone, then chat_name', () => {
  const all = { chat_id: '0077234', jid: '14151231234@c.us', phone: '+14151231234', chat_name: 'Sales team' };
  const base = { action: 'send', text: 'hi' };

  test.each([
    [all, { field: 'chat_id', value: '77234' }, ['jid', 'phone', 'chat_name']],
    [{ ...all, chat_id: null }, { field: 'jid', value: '14151231234@s.whatsapp.net' }, ['phone', 'chat_name']],
    [{ phone: all.phone, chat_name: all.chat_name }, { field: 'phone', value: '14151231234' }, ['chat_name']],
    [{ chat_name: ' Sales team ' }, { field: 'chat_name', value: ' Sales team ' }, []],
    [{ chat_name: 'Sales team', jid: '120363025246125486@g.us' }, { field: 'jid', value: '120363025246125486@g.us' }, ['chat_name']],
  ])('%j', (recipients, recipient, unused) => {
    const request = valueOf(validateSendPayload({ ...base, ...recipients }));
    expect(request.recipient).toEqual(recipient);
    expect(request.unusedRecipientFields).toEqual(unused);
  });
});

describe('the account to send from', () => {
  test.each([
    [{ whatsapp_account_phone: '+1 510 556 6777' }],
    [{ 'whatsapp account phone': '+15105566777' }],
    [{ whatsapp_account_phone: 15105566777 }],
    [{ whatsapp_account_phone: '+15105566777', 'whatsapp account phone': '0015105566777' }],
  ])('%j is 15105566777', (account) => {
    expect(valueOf(validateSendPayload({ ...VALID, ...account })).accountPhone).toBe('15105566777');
  });

  test('is kept with a chat_id; choosing to ignore it there is the sender side’s rule', () => {
    const request = { ...VALID, chat_id: '1', whatsapp_account_phone: '+15105566777' };
    expect(valueOf(validateSendPayload(request)).accountPhone).toBe('15105566777');
  });

  test('is absent when not given', () => {
    expect(valueOf(validateSendPayload(VALID))).not.toHaveProperty('accountPhone');
  });
});
