import type { Rejection } from './rejection';

/** What a 503 asks clients to wait before retrying; a redeploy or a store hiccup passes within it. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The webhook cannot accept right now, through no fault of the request: its store is failing or its
 * workspace is being reopened. A 503 with Retry-After, never a 404 (clients drop a 404) or a 500 page.
 */
export function unavailable(reason: string): Rejection {
  return { status: 503, message: `${reason} Nothing was queued; retry in a few seconds.`, retryAfterSeconds: RETRY_AFTER_SECONDS };
}

/** A store error in words an operator can act on, e.g. "its disk is full". */
export function describeStoreFault(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lower = text.toLowerCase();
  if (lower.includes('disk is full') || lower.includes('enospc')) return 'The workspace store cannot write: its disk is full.';
  if (lower.includes('readonly') || lower.includes('read-only') || lower.includes('eacces') || lower.includes('permission')) {
    return 'The workspace store cannot write: its files are read-only.';
  }
  if (lower.includes('locked') || lower.includes('busy')) return 'The workspace store is locked by another process.';
  // A closed SQLite store: "database is not open", or its prepared statements "finalized".
  if (lower.includes('not open') || lower.includes('statement has been finalized')) return 'The workspace is closing or being reopened.';
  if (lower.includes('unable to open') || lower.includes('cannot open')) return 'The workspace store cannot be opened (check its folder and permissions).';
  // node-postgres' words for a server that is down, restarting or out of reach.
  if (/econnrefused|econnreset|etimedout|ehostunreach|enotfound|connection terminated|timeout exceeded|query read timeout|connection timeout|server closed the connection/.test(lower)) {
    return 'The workspace store cannot be reached (its database server is down or unreachable).';
  }
  return `The workspace store failed (${text.split('\n')[0]!.slice(0, 160)}).`;
}
