import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from './address-guard';
import { type AddressCheck, assertHostAllowed } from './connection-guard';
import { emptyFile, invalidUrl, timedOut, tooManyRedirects, unsupportedScheme, webPage } from './errors';
import { fetchOnce, type HopResult } from './fetch-once';
import { detectMediaType, looksLikeHtml } from './sniff';
import type { DownloadedFile, DownloadPolicy } from './types';

export interface DownloadDeps {
  /** Resolver used for every hostname; its answers still pass the address guard. Default: dns.lookup. */
  readonly lookup?: LookupFunction;
  /** Clock for the overall deadline. Default: Date.now. */
  readonly now?: () => number;
  /**
   * Which addresses count as public when private ones are refused. Default: isPublicAddress. Tests use it
   * to treat one loopback address as public, since a test host has no reachable public address.
   */
  readonly isPublicAddress?: AddressCheck;
}

/**
 * Downloads an attachment for sending: http(s) only, public addresses only (unless the policy allows
 * private ones), redirects re-checked, size capped while streaming, one deadline for the whole download,
 * web pages refused, real type sniffed from the bytes. Rejects with an AttachmentError.
 */
export async function downloadAttachment(
  url: string,
  fileName: string,
  policy: DownloadPolicy,
  deps: DownloadDeps = {},
): Promise<DownloadedFile> {
  const now = deps.now ?? Date.now;
  const deadline = now() + policy.timeoutMs;
  const allowed: AddressCheck = policy.allowPrivateAddresses ? () => true : (deps.isPublicAddress ?? isPublicAddress);
  const lookup = deps.lookup ?? (dnsLookup as LookupFunction);

  let target = parseUrl(url);
  for (let redirects = 0; ; redirects++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw unsupportedScheme();
    assertHostAllowed(target.hostname, allowed);
    const current = target;
    const hop = await withDeadline(deadline - now(), policy.timeoutMs, (signal) =>
      fetchOnce(current, { maxBytes: policy.maxBytes, allowed, lookup, signal }),
    );
    if (hop.type === 'file') return toDownloadedFile(hop, current, fileName);
    if (redirects >= policy.maxRedirects) throw tooManyRedirects(policy.maxRedirects);
    target = hop.location;
  }
}

/** Runs one hop with what is left of the overall deadline; the timer never outlives the hop. */
async function withDeadline<T>(
  remainingMs: number,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (remainingMs <= 0) throw timedOut(timeoutMs);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timedOut(timeoutMs)), remainingMs);
  try {
    return await run(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

function parseUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw invalidUrl();
  }
}

function toDownloadedFile(hop: Extract<HopResult, { type: 'file' }>, url: URL, fileName: string): DownloadedFile {
  if (hop.body.length === 0) throw emptyFile();
  if (looksLikeHtml(hop.body)) throw webPage();
  const { mimetype, kind } = detectMediaType(hop.body, hop.contentType, fileName);
  return { buffer: hop.body, mimetype, kind, fileName, finalUrl: url.href };
}
