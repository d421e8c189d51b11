import { attemptLogJson, summarizeAttempts } from '../../shared/attempts/summary';
import type { Attempt } from '../../shared/model';

const accepted: Attempt = {
  seq: 2,
  at: Date.UTC(2026, 10, 28, 10, 0, 1),
  remoteAddress: '203.0.113.7',
  request: '{"action":"send","phone":"+14151231234","text":"hi"}',
  status: 200,
  response: '{"status":"success","data":{"message_id":"wa_backend:3EB0ABC"}}',
  messageId: '3EB0ABC',
  notes: 'recipient by phone',
  outcome: 'delivered',
  outcomeAt: Date.UTC(2026, 10, 28, 10, 0, 3),
};
const refused: Attempt = {
  ...accepted,
  seq: 1,
  at: Date.UTC(2026, 10, 28, 10, 0, 0),
  status: 400,
  request: '{"action":"send"',
  response: '{"status":400,"data":{},"message":"The body is not valid JSON: it ends too early at line 1, column 17."}',
  messageId: null,
  notes: null,
  outcome: null,
  outcomeAt: null,
};

describe('attempt log views', () => {
  it('summarises the newest attempts with their outcome or error sentence', () => {
    expect(summarizeAttempts([accepted, refused], 10)).toEqual([
      { at: '2026-11-28T10:00:01.000Z', status: 200, messageId: 'wa_backend:3EB0ABC', result: 'delivered' },
      { at: '2026-11-28T10:00:00.000Z', status: 400, messageId: null, result: 'The body is not valid JSON: it ends too early at line 1, column 17.' },
    ]);
    expect(summarizeAttempts([accepted, refused], 1)).toHaveLength(1);
    expect(summarizeAttempts([{ ...accepted, outcome: null }])[0]!.result).toBe('accepted, queued');
  });

  it('exports the log as JSON with the request exactly as received', () => {
    const exported = JSON.parse(attemptLogJson([accepted, refused], Date.UTC(2026, 10, 28, 11)));
    expect(exported.exported_at).toBe('2026-11-28T11:00:00.000Z');
    expect(exported.attempts[1]).toEqual({
      at: '2026-11-28T10:00:00.000Z',
      remote_address: '203.0.113.7',
      status: 400,
      request: '{"action":"send"',
      response: refused.response,
      message_id: null,
      notes: null,
      outcome: null,
      outcome_at: null,
    });
    expect(exported.attempts[0].outcome_at).toBe('2026-11-28T10:00:03.000Z');
  });
});
