import { AttachmentError } from '../attachments/errors';
import { TransportError, type TransportErrorKind } from '../transport/types';

export interface Failure {
  readonly kind: TransportErrorKind;
  readonly reason: string;
}

/**
 * Turns whatever a send threw into how to handle it and a reason a person understands. Attachment errors
 * carry their own `retryable` flag; anything unknown is retried, as a WhatsApp hiccup usually is.
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof TransportError) return { kind: error.kind, reason: error.reason };
  if (error instanceof AttachmentError) return { kind: error.retryable ? 'transient' : 'permanent', reason: error.reason };
  const detail = error instanceof Error ? error.message : String(error);
  return { kind: 'transient', reason: `sending failed unexpectedly: ${detail}` };
}
