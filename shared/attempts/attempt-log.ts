import { errorBody, successBody } from '../contract/responses';
import type { SendRequest } from '../contract/types';
import type { MessageChange, NewAttempt } from '../model';
import type { Rejection } from '../rejection';

/**
 * The attempt log's rule: what a row holds for an accepted or a refused call, and the outcome written on
 * it once the request's message reaches a final status. The store only keeps the rows (the last 100).
 */

/** How much of a request the log keeps: 4 KiB of a body as received (bytes), or of a request as text. */
export const REQUEST_LOG_LIMIT = 4096;

/** Who or what made a sending attempt, for the attempt log. */
export interface AttemptSource {
  readonly remoteAddress: string | null;
  /** The request as received (the log keeps the first 4 KiB). */
  readonly request: string;
}

/**
 * The request as the log keeps it: a body's first 4 KiB as UTF-8 text, or a text's first 4096 characters.
 * Cutting twice changes nothing, so a request already cut (the webhook's) passes through unchanged.
 */
export function loggedRequest(body: Buffer | string | undefined): string {
  if (body === undefined) return '';
  return typeof body === 'string' ? body.slice(0, REQUEST_LOG_LIMIT) : body.subarray(0, REQUEST_LOG_LIMIT).toString('utf8');
}

/** The row of a call that was accepted: answered 200 with `messageId`, the request's first message. */
export function acceptedAttempt(source: AttemptSource, request: SendRequest, messageId: string, at: number): NewAttempt {
  return {
    at,
    remoteAddress: source.remoteAddress,
    request: loggedRequest(source.request),
    status: 200,
    response: JSON.stringify(successBody(messageId)),
    messageId,
    notes: attemptNotes(request),
  };
}

/** The row of a refused call; `request` when the body was a valid request (its notes are kept too). */
export function refusedAttempt(source: AttemptSource, rejection: Rejection, at: number, request?: SendRequest): NewAttempt {
  return {
    at,
    remoteAddress: source.remoteAddress,
    request: loggedRequest(source.request),
    status: rejection.status,
    response: JSON.stringify(errorBody(rejection)),
    messageId: null,
    notes: request ? attemptNotes(request) : null,
  };
}

/** Which recipient field was used, and what the request gave that was not used. */
export function attemptNotes(request: SendRequest): string {
  const notes = [`recipient by ${request.recipient.field}`];
  if (request.unusedRecipientFields.length > 0) notes.push(`also given, not used: ${request.unusedRecipientFields.join(', ')}`);
  if (request.ignoredFields.length > 0) notes.push(`ignored fields: ${request.ignoredFields.join(', ')}`);
  return notes.join('; ');
}

/**
 * What a change writes on its request's attempt ("delivered", "failed: <reason>"), each later change
 * replacing the last; null while the message still waits (queued or sending), which is no outcome yet.
 */
export function attemptOutcome(change: MessageChange): string | null {
  if (change.status === 'queued' || change.status === 'sending') return null;
  return change.reason ? `${change.status}: ${change.reason}` : change.status;
}
