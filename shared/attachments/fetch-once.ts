import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { type AddressCheck, guardLookup, guardSocket } from './connection-guard';
import { type AttachmentError, badRedirect, httpStatus, networkError, tooLarge, webPage } from './errors';
import { isWebPageContentType } from './sniff';

export interface HopOptions {
  readonly maxBytes: number;
  readonly allowed: AddressCheck;
  readonly lookup: LookupFunction;
  /** Aborted with the AttachmentError to reject with (the overall timeout). */
  readonly signal: AbortSignal;
}

/** One request's outcome: where to go next, or the file's bytes. */
export type HopResult =
  | { readonly type: 'redirect'; readonly location: URL }
  | { readonly type: 'file'; readonly body: Buffer; readonly contentType: string | undefined };

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

const REQUEST_HEADERS = {
  'User-Agent': 'wahook-attachments/1.0',
  Accept: '*/*',
  // Compressed bodies would need the size cap applied after decompression; asking for none is simpler.
  'Accept-Encoding': 'identity',
};

/**
 * Performs one GET without following redirects. Rejects with an AttachmentError; the request and its socket
 * are destroyed before the promise settles, so nothing stays open.
 */
export function fetchOnce(url: URL, options: HopOptions): Promise<HopResult> {
  return new Promise((resolve, reject) => {
    const { signal, maxBytes } = options;
    const client = url.protocol === 'https:' ? https : http;
    // agent: false gives every hop its own socket: none is pooled past the download, none is reused unchecked.
    const request = client.request(url, {
      agent: false,
      headers: REQUEST_HEADERS,
      lookup: guardLookup(options.lookup, options.allowed),
    });
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      request.destroy();
      outcome();
    };
    const refuse = (error: AttachmentError): void => settle(() => reject(error));
    const onAbort = (): void => refuse(signal.reason as AttachmentError);

    signal.addEventListener('abort', onAbort, { once: true });
    guardSocket(request, options.allowed);
    request.on('error', (error) => refuse(networkError(error, 'connect')));
    request.on('response', (response) => {
      response.on('error', (error) => refuse(networkError(error, 'body')));
      const status = response.statusCode ?? 0;
      if (REDIRECT_STATUSES.has(status)) {
        const location = resolveLocation(response.headers.location, url);
        if (location === undefined) return refuse(badRedirect(status));
        return settle(() => resolve({ type: 'redirect', location }));
      }
      if (status < 200 || status >= 300) {
        return refuse(httpStatus(status, http.STATUS_CODES[status] ?? response.statusMessage ?? ''));
      }
      // Refuse before reading a byte when the headers already say no.
      if (Number(response.headers['content-length']) > maxBytes) return refuse(tooLarge(maxBytes));
      const contentType = response.headers['content-type'];
      if (isWebPageContentType(contentType)) return refuse(webPage());

      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // Abort at the first byte over the cap: a hostile server may send gigabytes.
        if (received > maxBytes) return refuse(tooLarge(maxBytes));
        chunks.push(chunk);
      });
      response.on('end', () => {
        const body = Buffer.concat(chunks, received);
        settle(() => resolve({ type: 'file', body, contentType }));
      });
    });
    request.end();
  });
}

/** A Location header resolved against the URL that sent it; undefined when missing or malformed. */
function resolveLocation(location: string | undefined, base: URL): URL | undefined {
  if (location === undefined || location === '') return undefined;
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}
