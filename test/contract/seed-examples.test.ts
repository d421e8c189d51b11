import { parseSendRequest } from '../../shared/contract';
import { rejectionOf, valueOf } from './helpers';

// Copied byte for byte from the seed (shared/seed/000_353e78fd53ea9f31.txt), including the non-breaking
// spaces the web page left after some commas, written here as \u00a0 so they stay visible.
const EXAMPLE_1 = [
  '{',
  '"action": "send",',
  '"whatsapp account phone" : "+15105566777",\u00a0',
  '"phone": "+14151231234",\u00a0',
  '"text": "lorem ipsum"',
  '}',
].join('\n');

const EXAMPLE_2 = [
  '{',
  '"action": "send",\u00a0',
  '"chat_id": "77234",\u00a0',
  '"text": "lorem ipsum"',
  '"file_url" : "https://timelines.ai/logo.png",',
  '"file_name" : "logo.png"',
  '}',
].join('\n');

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
    const fixed = EXAMPLE_2.replace('"text": "lorem ipsum"', '"text": "lorem ipsum",');
    expect(valueOf(parseSendRequest(fixed))).toEqual({
      text: 'lorem ipsum',
      file: { url: 'https://timelines.ai/logo.png', name: 'logo.png' },
      recipient: { field: 'chat_id', value: '77234' },
      unusedRecipientFields: [],
      ignoredFields: [],
    });
  });
});
