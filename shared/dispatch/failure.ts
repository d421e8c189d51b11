import { AttachmentError } from '../attachments/errors';
import type { FailureCause } from '../model';
import { TransportError, type TransportErrorKind } from '../transport/types';

export interface Failure {
  readonly kind: TransportErrorKind;
  readonly reason: string;
  /** The message's failure cause if this failure ends it (a permanent one, or the last retry). */
  readonly cause: FailureCause;
}

/**
 * Turns whatever a send threw into how to handle it and a reason a person understands. Attachment errors
 * carry their own `retryable` flag; anything unknown is retried, as a WhatsApp hiccup usually is.
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof TransportError) return { kind: error.kind, reason: error.reason, cause: error.kind === 'permanent' ? 'send_refused' : 'retries_exhausted' };
  if (error instanceof AttachmentError) return { kind: error.retryable ? 'transient' : 'permanent', reason: error.reason, cause: 'attachment' };
  const detail = error instanceof Error ? error.message : String(error);
  return { kind: 'transient', reason: `sending failed unexpectedly: ${detail}`, cause: 'retries_exhausted' };
}
