import { validateSendPayload } from '../../shared/contract';

describe('requests with a file attached by the engine', () => {
  it('may have empty text, and take the attachment name unless file_name names it', () => {
    expect(validateSendPayload({ action: 'send', phone: '+14151231234', text: '' }, { name: 'scan.pdf' })).toMatchObject({
      ok: true,
      value: { text: '', file: { attached: true, name: 'scan.pdf' } },
    });
    expect(validateSendPayload({ action: 'send', phone: '+14151231234', text: 'hi', file_name: 'invoice.pdf' }, { name: 'blob' })).toMatchObject({
      ok: true,
      value: { text: 'hi', file: { attached: true, name: 'invoice.pdf' } },
    });
  });

  it('refuses a file_url beside an attachment', () => {
    expect(
      validateSendPayload({ action: 'send', phone: '+14151231234', text: 'hi', file_url: 'https://x.test/a.pdf', file_name: 'a.pdf' }, { name: 'a.pdf' }),
    ).toEqual({
      ok: false,
      rejection: {
        status: 400,
        field: 'file_url',
        message: 'Field "file_url" was given with an attached file; send either the URL or the attachment, not both.',
      },
    });
  });

  it('keeps refusing empty text without any file', () => {
    expect(validateSendPayload({ action: 'send', phone: '+14151231234', text: ' ' })).toMatchObject({ ok: false, rejection: { field: 'text' } });
  });
});
