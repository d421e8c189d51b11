import type { Rejection, Result } from '../../shared/rejection';

/** The rejection inside a failed result; fails the test when the result is a success. */
export function rejectionOf<T>(result: Result<T>): Rejection {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.value)}`);
  return result.rejection;
}

/** The value inside a successful result; fails the test with the rejection's sentence otherwise. */
export function valueOf<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.rejection.status}: ${result.rejection.message}`);
  return result.value;
}

/** A minimal valid request, to which a test adds or overrides fields. */
export const VALID = { action: 'send', text: 'hello', phone: '+14151231234' } as const;
