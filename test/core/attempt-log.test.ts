import { acceptedAttempt, attemptNotes, attemptOutcome, loggedRequest, refusedAttempt, REQUEST_LOG_LIMIT } from '../../shared/attempts/attempt-log';
import type { SendRequest } from '../../shared/contract/types';
import type { MessageChange } from '../../shared/model';
import { reject } from '../../shared/rejection';

const request: SendRequest = {
  text: 'hi',
  recipient: { field: 'phone', value: '14151231234' },
  unusedRecipientFields: ['chat_name'],
  ignoredFields: ['crm_id'],
};
const source = { remoteAddress: '203.0.113.7', request: '{"phone":"+14151231234","text":"hi"}' };
const change = (status: MessageChange['status'], reason: string | null = null): MessageChange => ({ messageId: 'M1', requestId: 'M1', accountId: 'a', status, reason, at: 5 });

describe('attempt log rule', () => {
  it('keeps the first 4 KiB of a body as bytes and of a text as characters, and a second cut changes nothing', () => {
    expect(loggedRequest(undefined)).toBe('');
    expect(loggedRequest('x'.repeat(REQUEST_LOG_LIMIT + 10))).toHaveLength(REQUEST_LOG_LIMIT);
    // "é" takes two bytes: a body keeps half as many of them as a text does.
    const text = 'é'.repeat(REQUEST_LOG_LIMIT + 10);
    expect(loggedRequest(text)).toBe('é'.repeat(REQUEST_LOG_LIMIT));
    const cut = loggedRequest(Buffer.from(text));
    expect(cut).toBe('é'.repeat(REQUEST_LOG_LIMIT / 2));
    expect(loggedRequest(cut)).toBe(cut);
  });

  it('builds the row of an accepted call with its answer, message id and notes', () => {
    expect(acceptedAttempt(source, request, '3EB0ABC', 7)).toEqual({
      at: 7,
      remoteAddress: '203.0.113.7',
      request: source.request,
      status: 200,
      response: '{"status":"success","data":{"message_id":"wa_backend:3EB0ABC"}}',
      messageId: '3EB0ABC',
      notes: 'recipient by phone; also given, not used: chat_name; ignored fields: crm_id',
    });
  });

  it('builds the row of a refused call, with notes only when the request was valid', () => {
    const refusal = reject(429, 'Not enough messaging quota.');
    expect(refusedAttempt(source, refusal, 8)).toEqual({
      at: 8,
      remoteAddress: '203.0.113.7',
      request: source.request,
      status: 429,
      response: '{"status":429,"data":{},"message":"Not enough messaging quota."}',
      messageId: null,
      notes: null,
    });
    expect(refusedAttempt(source, refusal, 8, { ...request, unusedRecipientFields: [], ignoredFields: [] }).notes).toBe('recipient by phone');
    expect(attemptNotes({ ...request, recipient: { field: 'chat_id', value: '7' }, unusedRecipientFields: [] })).toBe('recipient by chat_id; ignored fields: crm_id');
  });

  it('writes an outcome once a message stops waiting, with its reason', () => {
    expect(attemptOutcome(change('queued'))).toBeNull();
    expect(attemptOutcome(change('sending'))).toBeNull();
    expect(attemptOutcome(change('delivered'))).toBe('delivered');
    expect(attemptOutcome(change('failed', '+14150000000 is not on WhatsApp'))).toBe('failed: +14150000000 is not on WhatsApp');
  });
});
