/**
 * What every answer of the webhook must look like, whatever was sent (../shared/spec/inbound-webhook.md):
 * a status in the contract's set, JSON (never an HTML page), the success body or
 * {"status": <the HTTP status>, "data": {}, "message": "<a sentence>"}, and nothing of the server's
 * insides (no stack trace, no file path).
 */
import type { Oracle } from './cases';
import { printable, type Outcome } from './raw-http';

/** The statuses the contract answers with. */
export const CONTRACT_STATUSES: ReadonlySet<number> = new Set([200, 400, 403, 404, 405, 408, 413, 415, 422, 429, 503]);

export const MESSAGE_ID = /^wa_backend:3EB0[0-9A-F]{18}$/;

/** A message is one sentence a person reads: this long at most (the core cuts echoed values well below it). */
export const MAX_MESSAGE_LENGTH = 500;

export const HTML = /<\s*(!doctype|html|head|body|pre|title|h1|div|br)\b/i;
/** A stack frame, a file path, or an error class name: the server's insides. */
export const LEAK =
  /(\n\s*at\s|\bat\s+[\w$.<>[\]]+\s+\(|\bat\s+(?:async\s+)?\/|(?:^|[\s"'(=])\/(?:work|root|home|tmp|usr|opt|var|app|srv|etc)\/|node_modules|\b[\w-]+\.(?:ts|js|mjs|cjs):\d+|[A-Za-z]:\\|\b(?:TypeError|RangeError|URIError|SyntaxError|ReferenceError|EvalError|AggregateError|ERR_[A-Z_]+|HPE_[A-Z_]+)\b)/;

export interface Expectation {
  readonly head: boolean;
  readonly oracle: Oracle;
}

/** How `outcome` breaks the contract (empty when it keeps it). */
export function contractViolations(outcome: Outcome, expectation: Expectation): string[] {
  if (outcome.kind === 'timeout') return [`no answer within ${outcome.ms} ms (the connection stayed open${outcome.received.length ? ', partial answer' : ''})`];
  if (outcome.kind === 'closed') return [`connection closed without an answer${outcome.error ? ` (${outcome.error})` : ''}${outcome.received.length ? `, after ${outcome.received.length} bytes` : ''}`];
  if (outcome.kind === 'malformed') return [`bytes that are not an HTTP response: ${printable(outcome.received, 80)}`];
  const { status, headers, body } = outcome.response;
  const found: string[] = [];
  if (!CONTRACT_STATUSES.has(status)) found.push(`status ${status} is not one of the contract's`);
  if (expectation.oracle && !expectation.oracle.status.includes(status)) {
    found.push(`status ${status} where the contract says ${expectation.oracle.status.join(' or ')} (${expectation.oracle.why})`);
  }
  const type = headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) found.push(`content-type is ${type ? JSON.stringify(type) : 'missing'}, not application/json`);
  if (status === 405 && headers.allow !== 'POST') found.push(`405 without "Allow: POST" (allow: ${JSON.stringify(headers.allow)})`);
  if (status === 503 && !/^\d+$/.test(headers['retry-after'] ?? '')) found.push('503 without a Retry-After in seconds');
  if (expectation.head) return found;
  const json = jsonBodyOf(body, found);
  if (json) found.push(...shapeViolations(status, json.parsed));
  return found;
}

/**
 * A body that must be JSON: no HTML, none of the server's insides, parseable. What is wrong goes to
 * `found`; the parsed value comes back, or undefined when it is not JSON.
 */
export function jsonBodyOf(body: Buffer, found: string[]): { readonly parsed: unknown } | undefined {
  const text = body.toString('utf8');
  if (HTML.test(text)) found.push('the body is HTML');
  if (LEAK.test(text)) found.push(`the body shows the server's insides: ${JSON.stringify(text.match(LEAK)![0])}`);
  try {
    return { parsed: JSON.parse(text) };
  } catch {
    found.push(text.length === 0 ? 'the body is empty' : 'the body is not JSON');
    return undefined;
  }
}

function shapeViolations(status: number, parsed: unknown): string[] {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return ['the body is JSON but not an object'];
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record).sort().join(',');
  if (status === 200) {
    const data = record.data as Record<string, unknown> | undefined;
    const ok = keys === 'data,status' && record.status === 'success' && typeof data === 'object' && data !== null && Object.keys(data).join(',') === 'message_id';
    if (!ok || typeof data?.message_id !== 'string' || !MESSAGE_ID.test(data.message_id)) return ['200 without the success body {"status":"success","data":{"message_id":"wa_backend:3EB0…"}}'];
    return [];
  }
  return errorBodyViolations(status, record);
}

/** How a parsed body breaks {"status": <the HTTP status>, "data": {}, "message": "<a sentence>"} (empty when it keeps it). */
export function errorBodyViolations(status: number, parsed: unknown): string[] {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return ['the body is JSON but not an object'];
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record).sort().join(',');
  const found: string[] = [];
  if (keys !== 'data,message,status') found.push(`the error body's keys are ${keys || 'none'}, not data,message,status`);
  if (record.status !== status) found.push(`the body's status is ${JSON.stringify(record.status)}, the HTTP status ${status}`);
  const data = record.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || Object.keys(data).length > 0) found.push('the body\'s "data" is not {}');
  const message = record.message;
  if (typeof message !== 'string' || message.trim().length === 0) found.push('the body has no message');
  else {
    if (!/^[A-Z"]/.test(message)) found.push(`the message does not start a sentence: ${JSON.stringify(message.slice(0, 60))}`);
    if (/[\r\n]/.test(message)) found.push('the message spans several lines');
    if (message.length > MAX_MESSAGE_LENGTH) found.push(`the message is ${message.length} characters long (over ${MAX_MESSAGE_LENGTH})`);
  }
  return found;
}

/** A one-line account of what came back, for reports. */
export function describeOutcome(outcome: Outcome): string {
  if (outcome.kind !== 'answer') return `${outcome.kind} after ${outcome.ms} ms${outcome.received.length ? `: ${printable(outcome.received, 160)}` : ''}`;
  const { status, headers, body } = outcome.response;
  return `HTTP ${status} (${headers['content-type'] ?? 'no content-type'}) ${printable(body, 200)}`;
}

/** The status of an answer, or the kind of outcome when there was none. */
export function statusOf(outcome: Outcome): number | string {
  return outcome.kind === 'answer' ? outcome.response.status : outcome.kind;
}
