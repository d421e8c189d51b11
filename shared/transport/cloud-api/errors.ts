import { TransportError } from '../types';

/**
 * Graph API error bodies of the WhatsApp Cloud API, mapped to how the dispatcher handles them.
 *
 * Codes as documented by Meta ("WhatsApp error codes",
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/) and
 * summarised by integrators (niswey.com/knowledge-base/error-codes-meta, docs.whatstool.business "types of
 * error code for failed message"): 131047 re-engagement message (over 24 hours since the customer last
 * replied), 131026 message undeliverable, 130429 Cloud API throughput reached, 131056 business/consumer
 * pair rate limit, 80007 WhatsApp Business Account rate limit, 4 application request limit, 190 access
 * token expired or invalid, 100 invalid parameter. Meta advises building on `code` and `error_data.details`,
 * not on titles or subcodes.
 */
export interface GraphErrorBody {
  readonly error?: {
    readonly message?: string;
    readonly type?: string;
    readonly code?: number;
    readonly error_subcode?: number;
    readonly error_data?: { readonly details?: string; readonly messaging_product?: string };
    readonly fbtrace_id?: string;
  };
}

/** An error as a webhook's `statuses[].errors[]` or `value.errors[]` carries it. */
export interface GraphWebhookError {
  readonly code?: number;
  readonly title?: string;
  readonly message?: string;
  readonly error_data?: { readonly details?: string };
}

export const OUTSIDE_WINDOW_SENTENCE =
  'More than 24 hours have passed since the customer last replied: outside the 24-hour customer-service window WhatsApp accepts only approved templates.';
export const UNDELIVERABLE_SENTENCE = 'WhatsApp could not deliver this message to the number (not on WhatsApp, or it cannot receive it).';
export const RATE_LIMIT_SENTENCE = 'The WhatsApp Cloud API rate limit was reached; sending slows down and tries again.';
export const TOKEN_SENTENCE = 'The WhatsApp Cloud API access token has expired or is invalid; messages wait until a new token is set.';

const RATE_LIMIT_CODES = new Set([130429, 131056, 80007, 4]);
const TOKEN_CODES = new Set([190]);

function detailsOf(details: string | undefined, message: string | undefined): string {
  const text = (details ?? message ?? '').trim();
  return text.replace(/\.$/, '');
}

/** One error code (with its details) as a TransportError; `httpStatus` where there was an HTTP answer. */
export function classifyGraphError(code: number | undefined, details: string | undefined, message: string | undefined, httpStatus?: number): TransportError {
  if (code === 131047) return new TransportError('permanent', OUTSIDE_WINDOW_SENTENCE);
  if (code === 131026) return new TransportError('permanent', UNDELIVERABLE_SENTENCE);
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) return new TransportError('throttled', RATE_LIMIT_SENTENCE);
  if ((code !== undefined && TOKEN_CODES.has(code)) || httpStatus === 401) return new TransportError('unavailable', TOKEN_SENTENCE);
  if (code === 100) {
    const what = detailsOf(details, message);
    return new TransportError('permanent', what ? `The WhatsApp Cloud API refused a parameter: ${what}.` : 'The WhatsApp Cloud API refused a parameter of the message.');
  }
  if (httpStatus === 429) return new TransportError('throttled', RATE_LIMIT_SENTENCE);
  if (httpStatus !== undefined && httpStatus >= 500) {
    return new TransportError('transient', `The WhatsApp Cloud API answered ${httpStatus}; sending tries again later.`);
  }
  const what = detailsOf(details, message);
  const label = code === undefined ? '' : ` (code ${code})`;
  return new TransportError('permanent', what ? `The WhatsApp Cloud API refused the message${label}: ${what}.` : `The WhatsApp Cloud API refused the message${label}.`);
}

/** A Graph API error answer (its HTTP status and parsed body, or null when it was not JSON). */
export function graphError(httpStatus: number, body: unknown): TransportError {
  const error = (body as GraphErrorBody | null)?.error;
  if (!error || typeof error !== 'object') {
    return classifyGraphError(undefined, undefined, undefined, httpStatus);
  }
  return classifyGraphError(typeof error.code === 'number' ? error.code : undefined, error.error_data?.details, error.message, httpStatus);
}

/** A request that got no answer: the network, a timeout. Always worth trying again. */
export function networkError(error: unknown): TransportError {
  // A DOMException (the timeout's abort) is no Error in every realm: read its name.
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  const timedOut = name === 'TimeoutError' || name === 'AbortError';
  return new TransportError(
    'transient',
    timedOut ? 'The WhatsApp Cloud API did not answer in time; sending tries again later.' : 'The WhatsApp Cloud API could not be reached; sending tries again later.',
  );
}

/** A failed status's errors[] as the message's failure reason. */
export function webhookErrorReason(errors: readonly GraphWebhookError[] | undefined): string {
  const first = errors?.[0];
  if (!first) return 'WhatsApp reported the message failed without saying why.';
  return classifyGraphError(first.code, first.error_data?.details, first.message ?? first.title).reason;
}
