import { classifyGraphError, graphError, networkError, OUTSIDE_WINDOW_SENTENCE, RATE_LIMIT_SENTENCE, TOKEN_SENTENCE, UNDELIVERABLE_SENTENCE, webhookErrorReason } from '../../shared/transport/cloud-api/errors';
import { graphErrorBody } from '../support/fake-graph-api';

describe('Cloud API errors', () => {
  it('131047 (more than 24 hours since the customer replied) fails the message with the window sentence', () => {
    const error = graphError(400, graphErrorBody(131047, 'Re-engagement message', 'Message failed to send because more than 24 hours have passed'));
    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe(OUTSIDE_WINDOW_SENTENCE);
    expect(error.reason).toContain('outside the 24-hour customer-service window WhatsApp accepts only approved templates');
  });

  it('131026 (undeliverable) is permanent', () => {
    expect(graphError(400, graphErrorBody(131026, 'Message Undeliverable.', 'Message Undeliverable.'))).toMatchObject({ kind: 'permanent', reason: UNDELIVERABLE_SENTENCE });
  });

  it.each([130429, 131056, 80007, 4])('rate limit %i is transient, so the dispatcher backs off', (code) => {
    expect(graphError(400, graphErrorBody(code, 'Rate limit hit', 'Too many messages'))).toMatchObject({ kind: 'throttled', reason: RATE_LIMIT_SENTENCE });
  });

  it('190 and a bare 401 (token expired or invalid) are unavailable: messages wait', () => {
    expect(graphError(401, graphErrorBody(190, 'Error validating access token', 'Session has expired'))).toMatchObject({ kind: 'unavailable', reason: TOKEN_SENTENCE });
    expect(graphError(401, null)).toMatchObject({ kind: 'unavailable', reason: TOKEN_SENTENCE });
  });

  it('100 (invalid parameter) is permanent and names the parameter', () => {
    const error = graphError(400, graphErrorBody(100, '(#100) Invalid parameter', 'Param to must be a valid phone number.'));
    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe('The WhatsApp Cloud API refused a parameter: Param to must be a valid phone number.');
  });

  it('5xx, 429, network errors and timeouts are transient', () => {
    expect(graphError(503, null).kind).toBe('transient');
    expect(graphError(500, graphErrorBody(2, 'Service temporarily unavailable', '')).kind).toBe('transient');
    expect(graphError(429, null)).toMatchObject({ kind: 'throttled', reason: RATE_LIMIT_SENTENCE });
    expect(networkError(new TypeError('fetch failed'))).toMatchObject({ kind: 'transient', reason: 'The WhatsApp Cloud API could not be reached; sending tries again later.' });
    const timeout = new Error('timed out');
    timeout.name = 'TimeoutError';
    expect(networkError(timeout)).toMatchObject({ kind: 'transient', reason: 'The WhatsApp Cloud API did not answer in time; sending tries again later.' });
  });

  it('another code is permanent with its code and details', () => {
    expect(classifyGraphError(131051, 'Message type is not currently supported', undefined, 400)).toMatchObject({
      kind: 'permanent',
      reason: 'The WhatsApp Cloud API refused the message (code 131051): Message type is not currently supported.',
    });
  });

  it('a failed status webhook says why with the same sentences', () => {
    expect(webhookErrorReason([{ code: 131047, title: 'Re-engagement message', error_data: { details: 'over 24 hours' } }])).toBe(OUTSIDE_WINDOW_SENTENCE);
    expect(webhookErrorReason([])).toBe('WhatsApp reported the message failed without saying why.');
  });
});
