/** Stable identifiers for why a download failed; the attempt log and retry logic key on them. */
export type AttachmentErrorCode =
  | 'invalid_url'
  | 'unsupported_scheme'
  | 'private_address'
  | 'too_many_redirects'
  | 'bad_redirect'
  | 'too_large'
  | 'timeout'
  | 'http_error'
  | 'empty_file'
  | 'web_page'
  | 'unreachable'
  | 'interrupted';

/** A failed attachment download. `reason` becomes the failed message's reason, so it is written for people. */
export class AttachmentError extends Error {
  override readonly name = 'AttachmentError';

  constructor(
    readonly code: AttachmentErrorCode,
    readonly reason: string,
    /** True only when trying again later may succeed: timeouts, connection resets, HTTP 5xx and 429. */
    readonly retryable: boolean = false,
  ) {
    super(reason);
  }
}

/** Socket error codes that mean the connection broke or stalled, not that the URL is wrong. */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT']);

export const invalidUrl = (): AttachmentError => new AttachmentError('invalid_url', 'the file URL is not a valid URL');

export const unsupportedScheme = (): AttachmentError =>
  new AttachmentError('unsupported_scheme', 'the file URL must use http:// or https://');

export const privateAddress = (address: string): AttachmentError =>
  new AttachmentError(
    'private_address',
    `the file URL points to a private or local address (${address}), which this workspace does not allow`,
  );

export const tooManyRedirects = (max: number): AttachmentError =>
  new AttachmentError('too_many_redirects', `the file URL redirected more than ${max} times`);

export const badRedirect = (status: number): AttachmentError =>
  new AttachmentError('bad_redirect', `the file URL answered HTTP ${status} without a valid redirect location`);

export const tooLarge = (maxBytes: number): AttachmentError =>
  new AttachmentError('too_large', `the file is larger than ${formatMegabytes(maxBytes)} MB`);

export const timedOut = (timeoutMs: number): AttachmentError =>
  new AttachmentError('timeout', `the file download took longer than ${formatSeconds(timeoutMs)} s`, true);

export const httpStatus = (status: number, text: string): AttachmentError =>
  new AttachmentError(
    'http_error',
    `the file URL answered HTTP ${status}${text === '' ? '' : ` ${text}`}`,
    status >= 500 || status === 429,
  );

export const emptyFile = (): AttachmentError =>
  new AttachmentError('empty_file', 'the file URL returned an empty file');

export const webPage = (): AttachmentError =>
  new AttachmentError('web_page', 'the URL returned a web page, not a file: use a direct download link');

/** A socket or TLS error, before the response (`unreachable`) or while reading its body (`interrupted`). */
export function networkError(error: unknown, phase: 'connect' | 'body'): AttachmentError {
  if (error instanceof AttachmentError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  const retryable = TRANSIENT_NETWORK_CODES.has(code);
  return phase === 'connect'
    ? new AttachmentError('unreachable', `the file URL could not be reached (${code})`, retryable)
    : new AttachmentError('interrupted', `the file download was interrupted (${code})`, retryable);
}

/** 2097152 → "2"; odd caps keep up to three significant digits. */
function formatMegabytes(bytes: number): string {
  return String(Number((bytes / (1024 * 1024)).toPrecision(3)));
}

/** 30000 → "30", 300 → "0.3". */
function formatSeconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)));
}
