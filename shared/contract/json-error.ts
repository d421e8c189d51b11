/** Where and why a text stops being JSON. */
export interface JsonBreak {
  /** UTF-16 index into the text. */
  readonly index: number;
  /** What is wrong there, worded to be followed by "at line L, column C". */
  readonly problem: string;
}

/** What the scanner expects next. */
type Expect =
  | 'value' // at the top, or after ':'
  | 'first-element' // after '['
  | 'next-element' // after ',' in an array
  | 'first-key' // after '{'
  | 'next-key' // after ',' in an object
  | 'colon'
  | 'after-value';

/** Where a token ends, or the break inside it. */
type Scan = { readonly end: number } | JsonBreak;

/**
 * Finds the first place where `text` stops being JSON. Called only after JSON.parse failed: V8 words its
 * errors differently across versions and gives no position for some, so the contract finds its own.
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
export function findJsonBreak(text: string): JsonBreak {
  const open: Array<'{' | '['> = [];
  let expect: Expect = 'value';
  let lastComma = 0; // a trailing comma is reported where it is, not at the bracket after it
  let i = 0;
  for (;;) {
    i = skipWhitespace(text, i);
    if (i === text.length) {
      // A complete value here means JSON.parse refused something this scanner accepts.
      const complete = expect === 'after-value' && open.length === 0;
      return { index: i, problem: complete ? 'the JSON could not be read' : 'the JSON ends before it is complete' };
    }
    const c = text[i];
    const top = open.at(-1);
    let scan: Scan;
    if (expect === 'after-value') {
      if (top === undefined) return { index: i, problem: `unexpected ${found(text, i)} after the end of the JSON value` };
      if (c === ',') {
        expect = top === '{' ? 'next-key' : 'next-element';
        lastComma = i;
        i++;
        continue;
      }
      if (c !== (top === '{' ? '}' : ']')) {
        const problem = top === '{' ? "expected ',' or '}' after property value" : "expected ',' or ']' after array element";
        return { index: i, problem };
      }
      scan = { end: i + 1 };
      open.pop();
    } else if (expect === 'colon') {
      if (c !== ':') return { index: i, problem: "expected ':' after property name" };
      scan = { end: i + 1 };
      expect = 'value';
    } else if (expect === 'first-key' || expect === 'next-key') {
      if (c === '}') {
        if (expect === 'next-key') return { index: lastComma, problem: "trailing comma before '}'" };
        scan = { end: i + 1 };
        open.pop();
        expect = 'after-value';
      } else if (c === '"') {
        scan = scanString(text, i);
        expect = 'colon';
      } else {
        return { index: i, problem: `expected a property name in double quotes but found ${found(text, i)}` };
      }
    } else if (c === ']' && expect === 'first-element') {
      scan = { end: i + 1 };
      open.pop();
      expect = 'after-value';
    } else if (c === ']' && expect === 'next-element') {
      return { index: lastComma, problem: "trailing comma before ']'" };
    } else if (c === '{' || c === '[') {
      scan = { end: i + 1 };
      open.push(c);
      expect = c === '{' ? 'first-key' : 'first-element';
    } else {
      scan = scanScalar(text, i);
      expect = 'after-value';
    }
    if (!('end' in scan)) return scan;
    i = scan.end;
  }
}

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

function scanScalar(text: string, start: number): Scan {
  const c = text[start]!;
  if (c === '"') return scanString(text, start);
  if (c === '-' || isDigit(c)) return scanNumber(text, start);
  const word = WORD.exec(text.slice(start, start + MAX_SHOWN + 1))?.[0];
  if (word === 'true' || word === 'false' || word === 'null') return { end: start + word.length };
  return { index: start, problem: `expected a value but found ${found(text, start)}` };
}

const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

function scanString(text: string, start: number): Scan {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return { end: i + 1 };
    if (c === '\\') {
      const next = text[i + 1];
      if (next === 'u') {
        if (!HEX4.test(text.slice(i + 2, i + 6))) return { index: i, problem: 'invalid \\u escape in a string' };
        i += 6;
        continue;
      }
      if (next !== undefined && !ESCAPES.has(next)) {
        return { index: i, problem: `invalid escape '\\${next}' in a string (write a backslash as \\\\)` };
      }
      i += 2;
      continue;
    }
    if (c === '\n' || c === '\r') return { index: i, problem: 'line break inside a string (write it as \\n)' };
    if (c < ' ') return { index: i, problem: `control character ${codePoint(c)} inside a string (escape it)` };
    i++;
  }
  return { index: start, problem: 'unclosed string that starts' };
}

function scanNumber(text: string, start: number): Scan {
  let i = start;
  if (text[i] === '-') i++;
  if (text[i] === '0') {
    if (isDigit(text[i + 1])) return { index: start, problem: 'a number has a leading zero' };
    i++;
  } else if (isDigit(text[i])) {
    i = skipDigits(text, i);
  } else {
    return { index: i, problem: "expected a digit after '-'" };
  }
  if (text[i] === '.') {
    if (!isDigit(text[i + 1])) return { index: i + 1, problem: 'expected a digit after the decimal point' };
    i = skipDigits(text, i + 1);
  }
  if (text[i] === 'e' || text[i] === 'E') {
    i++;
    if (text[i] === '+' || text[i] === '-') i++;
    if (!isDigit(text[i])) return { index: i, problem: 'expected a digit in the exponent' };
    i = skipDigits(text, i);
  }
  return { end: i };
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function skipDigits(text: string, from: number): number {
  let i = from;
  while (isDigit(text[i])) i++;
  return i;
}

const WORD = /^[\p{L}\p{N}_$]+/u;
const INVISIBLE = /^[\p{Cc}\p{Cf}\p{Z}]/u;
const MAX_SHOWN = 20;

/** The token at `index` as a person would name it: a bare word, a visible character, or a code point. */
function found(text: string, index: number): string {
  const word = WORD.exec(text.slice(index, index + MAX_SHOWN + 1))?.[0];
  if (word !== undefined) return `'${word.length > MAX_SHOWN ? `${word.slice(0, MAX_SHOWN)}…` : word}'`;
  const char = String.fromCodePoint(text.codePointAt(index)!);
  if (char === "'") return 'a single quote';
  return INVISIBLE.test(char) ? codePoint(char) : `'${char}'`;
}

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
