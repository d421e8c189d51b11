import type { Rejection } from '../rejection';
import { externalMessageId } from './message-id';

/** The success body TimelinesAI answers with. */
export interface SuccessBody {
  readonly status: 'success';
  readonly data: { readonly message_id: string };
}

/** The error body TimelinesAI answers with: the HTTP status repeated, empty data and a sentence. */
export interface ErrorBody {
  readonly status: number;
  readonly data: Record<string, never>;
  readonly message: string;
}

export function successBody(messageId: string): SuccessBody {
  return { status: 'success', data: { message_id: externalMessageId(messageId) } };
}

export function errorBody(rejection: Rejection): ErrorBody {
  return errorBodyFor(rejection.status, rejection.message);
}

/** The same body for a status that is not a refusal of the request (an engine's own 500 or 503). */
export function errorBodyFor(status: number, message: string): ErrorBody {
  return { status, data: {}, message };
}

/** What a caller is told when something unforeseen failed before its request was recorded. */
export const INTERNAL_ERROR_SENTENCE = 'Internal error; the request was not queued.';
