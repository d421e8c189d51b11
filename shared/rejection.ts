/**
 * A refused webhook call: the HTTP status and one sentence a person can act on. Errors are values in
 * the core; each engine adapter only translates them into its own idiom.
 */
export type RejectionStatus = 400 | 403 | 404 | 405 | 408 | 413 | 415 | 422 | 429 | 503;

export interface Rejection {
  readonly status: RejectionStatus;
  /** One sentence naming the offending field (when there is one) and what was expected. */
  readonly message: string;
  /** The request field at fault, when the problem is a single field. */
  readonly field?: string;
  /** For a 503: when to try again, in seconds (sent as Retry-After, so clients retry instead of dropping). */
  readonly retryAfterSeconds?: number;
}

export function reject(status: RejectionStatus, message: string, field?: string): Rejection {
  return field === undefined ? { status, message } : { status, message, field };
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(rejection: Rejection): Result<T> {
  return { ok: false, rejection };
}
