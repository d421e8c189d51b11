import { fail, ok, reject, type Result } from '../rejection';
import { findJsonBreak } from './json-error';
import { BODY_NOT_UTF8, EMPTY_BODY, invalidJson } from './messages';

// fatal: a body in another encoding is refused rather than turned into replacement characters that would
// then be sent to WhatsApp. The decoder strips a leading BOM.
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const NBSP = '\u00a0';

/** Decodes a request body as UTF-8 JSON; a body that is not gets a 400 saying where it breaks. */
export function parseJsonBody(body: Buffer | string): Result<unknown> {
  let text: string;
  if (typeof body === 'string') {
    text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  } else {
    try {
      text = UTF8.decode(body);
    } catch {
      return fail(reject(400, BODY_NOT_UTF8));
    }
  }
  if (text.trim() === '') return fail(reject(400, EMPTY_BODY));
  try {
    return ok(JSON.parse(text));
  } catch {
    // The seed's own examples carry non-breaking spaces between tokens (an artefact of the web page they
    // are copied from); a body pasted from them is read as the seed intends.
    const spaced = text.includes(NBSP) ? nbspOutsideStringsToSpace(text) : text;
    if (spaced !== text) {
      try {
        return ok(JSON.parse(spaced));
      } catch {
        // reported below, from the text the client meant
      }
    }
    const { index, problem } = findJsonBreak(spaced);
    const { line, column } = lineAndColumn(spaced, index);
    return fail(reject(400, invalidJson(problem, line, column)));
  }
}

// A whole string literal (kept as is) or a non-breaking space outside one.
const STRING_OR_NBSP = /"(?:[^"\\]|\\[^])*"|\u00a0/g;

/** Replaces U+00A0 between tokens by a space, leaving string contents alone; the length is unchanged. */
function nbspOutsideStringsToSpace(text: string): string {
  return text.replace(STRING_OR_NBSP, (match) => (match === NBSP ? ' ' : match));
}

/** 1-based line and column of a UTF-16 index; columns count characters, as editors do. */
function lineAndColumn(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      column = 1;
    } else if (c !== 0x0d && !(c >= 0xdc00 && c <= 0xdfff && i > 0 && isHighSurrogate(text.charCodeAt(i - 1)))) {
      column++; // a surrogate pair is one character
    }
  }
  return { line, column };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
