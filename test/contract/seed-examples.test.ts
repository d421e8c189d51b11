import { parseSendRequest } from '../../shared/contract';
import { rejectionOf, valueOf } from './helpers';
import { SEED_EXAMPLE_1 as EXAMPLE_1, SEED_EXAMPLE_2 as EXAMPLE_2, SEED_EXAMPLE_2_CORRECTED } from '../support/seed-examples';



describe("the seed's examples", () => {
  test('Example 1 sends to a phone from the account named with spaces in its key', () => {
    expect(valueOf(parseSendRequest(EXAMPLE_1))).toEqual({
      text: 'lorem ipsum',
      recipient: { field: 'phone', value: '14151231234' },
      accountPhone: '15105566777',
      unusedRecipientFields: [],
      ignoredFields: [],
    });
  });

  test('Example 1 is read the same from raw bytes', () => {
    expect(parseSendRequest(Buffer.from(EXAMPLE_1, 'utf8'))).toEqual(parseSendRequest(EXAMPLE_1));
  });

  test('Example 2 as printed is refused where the comma is missing', () => {
    expect(rejectionOf(parseSendRequest(Buffer.from(EXAMPLE_2, 'utf8')))).toEqual({
      status: 400,
      message: "The body is not valid JSON: expected ',' or '}' after property value at line 5, column 1.",
    });
  });

  test('Example 2 with the comma added sends the file to the chat', () => {
    const fixed = SEED_EXAMPLE_2_CORRECTED;
    expect(valueOf(parseSendRequest(fixed))).toEqual({
      text: 'lorem ipsum',
      file: { url: 'https://timelines.ai/logo.png', name: 'logo.png' },
      recipient: { field: 'chat_id', value: '77234' },
      unusedRecipientFields: [],
      ignoredFields: [],
    });
  });
});
