import Ajv from 'ajv';
import { parseSendRequest, validateSendPayload } from '../../shared/contract';
import { VALID } from './helpers';

test('the schema is compiled once per process, on first use', () => {
  const compile = jest.spyOn(Ajv.prototype, 'compile');
  try {
    for (let i = 0; i < 200; i++) {
      validateSendPayload({ ...VALID, i });
      validateSendPayload({ ...VALID, phone: 'bad' });
      parseSendRequest(JSON.stringify({ ...VALID, chat_id: i }));
      parseSendRequest('{"action": "delete"}');
    }
    expect(compile).toHaveBeenCalledTimes(1);
  } finally {
    compile.mockRestore();
  }
});
