/**
 * The two examples of the seed document (../shared/seed), byte for byte: the page left non-breaking
 * spaces after some commas, and Example 2 lacks the comma after "lorem ipsum".
 */
export const SEED_EXAMPLE_1 = [
  '{',
  '"action": "send",',
  '"whatsapp account phone" : "+15105566777",\u00a0',
  '"phone": "+14151231234",\u00a0',
  '"text": "lorem ipsum"',
  '}',
].join('\n');

export const SEED_EXAMPLE_2 = [
  '{',
  '"action": "send",\u00a0',
  '"chat_id": "77234",\u00a0',
  '"text": "lorem ipsum"',
  '"file_url" : "https://timelines.ai/logo.png",',
  '"file_name" : "logo.png"',
  '}',
].join('\n');

/** Example 2 with its missing comma added. */
export const SEED_EXAMPLE_2_CORRECTED = SEED_EXAMPLE_2.replace('"text": "lorem ipsum"\n', '"text": "lorem ipsum",\n');
