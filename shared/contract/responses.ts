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
  return { status: rejection.status, data: {}, message: rejection.message };
}
