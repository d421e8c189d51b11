import type { NewMessage } from '../../shared/store/types';
import type { NewAttempt } from '../../shared/model';

let counter = 0;

/** A queued text message for store-level tests; ids are unique per test run. */
export function textMessage(overrides: Partial<NewMessage> = {}): NewMessage {
  counter++;
  const id = `3EB0${counter.toString(16).toUpperCase().padStart(18, '0')}`;
  return {
    id,
    requestId: id,
    accountId: 'acc',
    part: 'text',
    recipient: { field: 'phone', value: '14151231234' },
    jid: '14151231234@s.whatsapp.net',
    text: `hello ${counter}`,
    fileUrl: null,
    fileName: null,
    ...overrides,
  };
}

export function attempt(overrides: Partial<NewAttempt> = {}): NewAttempt {
  return { at: 0, remoteAddress: '127.0.0.1', request: '{}', status: 200, response: '{}', messageId: null, notes: null, ...overrides };
}
