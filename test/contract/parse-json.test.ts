import { parseJsonBody } from '../../shared/contract';
import { rejectionOf, valueOf } from './helpers';

const EMPTY =
  'The body is empty: send a JSON object such as {"action": "send", "phone": "+14151231234", "text": "hello"}.';

/** The sentence for a body that breaks with `problem` at `line`, `column`. */
const broken = (problem: string, line: number, column: number) =>
  `The body is not valid JSON: ${problem} at line ${line}, column ${column}.`;

describe('parseJsonBody', () => {
  test('parses a string or UTF-8 bytes', () => {
    expect(valueOf(parseJsonBody('{"text": "olá 😀"}'))).toEqual({ text: 'olá 😀' });
    expect(valueOf(parseJsonBody(Buffer.from('{"text": "olá 😀"}', 'utf8')))).toEqual({ text: 'olá 😀' });
  });

  test('strips a byte order mark', () => {
    expect(valueOf(parseJsonBody(Buffer.from('\uFEFF{"a": 1}', 'utf8')))).toEqual({ a: 1 });
    expect(valueOf(parseJsonBody('\uFEFF{"a": 1}'))).toEqual({ a: 1 });
  });

  test.each([[''], ['  \r\n\t'], [Buffer.alloc(0)], [Buffer.from('\uFEFF', 'utf8')]])(
    'an empty body (%j) asks for a JSON object',
    (body) => {
      expect(rejectionOf(parseJsonBody(body))).toEqual({ status: 400, message: EMPTY });
    },
  );

  test('refuses bytes that are not UTF-8 instead of sending replacement characters', () => {
    expect(rejectionOf(parseJsonBody(Buffer.from([0x7b, 0x22, 0x61, 0xe9, 0x22, 0x7d])))).toEqual({
      status: 400,
      message: 'The body is not valid UTF-8: send the JSON encoded as UTF-8.',
    });
  });

  test('reads non-breaking spaces between tokens as spaces, and keeps them inside strings', () => {
    expect(valueOf(parseJsonBody('{\u00a0"text":\u00a0"a\u00a0b"\u00a0}'))).toEqual({ text: 'a\u00a0b' });
  });

  test('parses a deeply nested body without overflowing the stack', () => {
    const depth = 100_000;
    expect(valueOf(parseJsonBody(`{"a": ${'['.repeat(depth)}${']'.repeat(depth)}}`))).toHaveProperty('a');
    expect(rejectionOf(parseJsonBody('['.repeat(depth))).message).toBe(
      broken('the JSON ends before it is complete', 1, depth + 1),
    );
  });

  test.each([
    ['{"a": 1\n"b": 2}', broken("expected ',' or '}' after property value", 2, 1)],
    ['{\r\n"a": 1\r\n"b": 2}', broken("expected ',' or '}' after property value", 3, 1)],
    ['{\r"a": 1\r"b": 2}', broken("expected ',' or '}' after property value", 3, 1)],
    ['[1 2]', broken("expected ',' or ']' after array element", 1, 4)],
    // Columns count characters: the emoji is one, though it is two UTF-16 units.
    ['{"a": "😀" x}', broken("expected ',' or '}' after property value", 1, 11)],
    ['{"a" 1}', broken("expected ':' after property name", 1, 6)],
    ['{\'a\': 1}', broken('expected a property name in double quotes but found a single quote', 1, 2)],
    ['{a: 1}', broken("expected a property name in double quotes but found 'a'", 1, 2)],
    ['{"a": 1,}', broken("trailing comma before '}'", 1, 8)],
    ['[1,\n]', broken("trailing comma before ']'", 1, 3)],
    ['{"a": tru}', broken("expected a value but found 'tru'", 1, 7)],
    ['{"text": hello world}', broken("expected a value but found 'hello'", 1, 10)],
    ['{"a": \u200b1}', broken('expected a value but found U+200B', 1, 7)],
    ['{"a": }', broken("expected a value but found '}'", 1, 7)],
    ['{"a": 1}}', broken("unexpected '}' after the end of the JSON value", 1, 9)],
    ['{"a": 1} {"b": 2}', broken("unexpected '{' after the end of the JSON value", 1, 10)],
    ['{"a": "abc', broken('unclosed string that starts', 1, 7)],
    ['{"a": "x\ny"}', broken('line break inside a string (write it as \\n)', 1, 9)],
    ['{"a": "\u0001"}', broken('control character U+0001 inside a string (escape it)', 1, 8)],
    ['{"a": "c:\\temp\\x"}', broken("invalid escape '\\x' in a string (write a backslash as \\\\)", 1, 15)],
    ['{"a": "\\u12g4"}', broken('invalid \\u escape in a string', 1, 8)],
    ['{"a": 01}', broken('a number has a leading zero', 1, 7)],
    ['{"a": -}', broken("expected a digit after '-'", 1, 8)],
    ['{"a": 1.}', broken('expected a digit after the decimal point', 1, 9)],
    ['{"a": 1e+}', broken('expected a digit in the exponent', 1, 10)],
    ['{"a":', broken('the JSON ends before it is complete', 1, 6)],
    ['nul', broken("expected a value but found 'nul'", 1, 1)],
  ])('%j is refused with where it breaks', (body, message) => {
    expect(rejectionOf(parseJsonBody(body))).toEqual({ status: 400, message });
    expect(rejectionOf(parseJsonBody(Buffer.from(body, 'utf8')))).toEqual({ status: 400, message });
  });
});
