import { errorBodyFor } from '../contract/responses';
import { describeStoreFault, RETRY_AFTER_SECONDS } from '../unavailable';
import { WebhookSecret } from '../webhook/token';
import type { Workspace } from '../workspace/workspace';

/** The two read-only endpoints beside the webhook: Prometheus metrics and health. */
export type MetricsEndpoint = 'metrics' | 'healthz';

/** An HTTP answer with its body already written (Prometheus text or JSON). */
export interface EndpointAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** `/metrics` or `/healthz` (the query aside), else undefined. */
export function metricsEndpointOf(url: string): MetricsEndpoint | undefined {
  const path = url.split('?', 1)[0];
  return path === '/metrics' ? 'metrics' : path === '/healthz' ? 'healthz' : undefined;
}

/** The scrape token a request carries: `Authorization: Bearer <token>`, else `?token=<token>`; undefined without one. */
export function presentedScrapeToken(authorization: string | undefined, url: string): { readonly token: string; readonly from: 'header' | 'query' } | undefined {
  const bearer = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (bearer) return { token: bearer[1]!, from: 'header' };
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  const token = new URLSearchParams(url.slice(query + 1)).get('token');
  return token === null || token === '' ? undefined : { token, from: 'query' };
}

/** A workspace's scrape token (the `metricsToken` setting), compared in constant time (see WebhookSecret). */
export class ScrapeToken {
  private readonly secret: WebhookSecret;

  constructor(token: string) {
    this.secret = new WebhookSecret(token);
  }

  matches(candidate: string): boolean {
    return this.secret.matches(candidate);
  }
}

export const SCRAPE_TOKEN_MISSING = 'This endpoint needs the workspace\'s scrape token: send it as "Authorization: Bearer <token>" (or ?token=<token>).';
export const SCRAPE_TOKEN_WRONG = 'The scrape token is wrong: send the workspace\'s metricsToken setting as "Authorization: Bearer <token>".';
export const SCRAPE_TOKEN_UNSET =
  'Metrics and health are served to other machines only with a scrape token: set the workspace\'s metricsToken setting, then send it as "Authorization: Bearer <token>".';

/** A refusal of a caller, with the contract's JSON body. */
export function refusal(status: number, message: string, headers: Record<string, string> = {}): EndpointAnswer {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(errorBodyFor(status, message)) };
}

/**
 * Who may read `/metrics` and `/healthz` on the core's own server (the standalone `serve`, n8n's Dedicated
 * Port): with a scrape token set, only a caller presenting it; without one, only callers on this machine
 * (a loopback address), since the port may listen on every interface and health names the accounts' phones.
 */
export function checkScrape(configured: ScrapeToken | undefined, presented: { readonly token: string } | undefined, remoteAddress: string | undefined): EndpointAnswer | undefined {
  const challenge = { 'WWW-Authenticate': 'Bearer realm="wahook"' };
  if (configured) {
    if (!presented) return refusal(401, SCRAPE_TOKEN_MISSING, challenge);
    return configured.matches(presented.token) ? undefined : refusal(401, SCRAPE_TOKEN_WRONG, challenge);
  }
  return isLoopback(remoteAddress) ? undefined : refusal(403, SCRAPE_TOKEN_UNSET);
}

/** The endpoint's answer for a caller already let in: GET only (405 with Allow otherwise). */
export async function serveMetricsEndpoint(workspace: Workspace, endpoint: MetricsEndpoint, method: string): Promise<EndpointAnswer> {
  if (method.toUpperCase() !== 'GET') {
    return refusal(405, `Method ${method.toUpperCase()} is not allowed: read /${endpoint} with GET.`, { Allow: 'GET' });
  }
  return endpoint === 'metrics' ? metricsAnswer(workspace) : healthAnswer(workspace);
}

/** 200 with the Prometheus text; 503 with a sentence when the store does not answer. */
export async function metricsAnswer(workspace: Workspace): Promise<EndpointAnswer> {
  try {
    const { contentType, text } = await workspace.metricsText();
    return { status: 200, headers: { 'content-type': contentType, 'cache-control': 'no-store' }, body: text };
  } catch (error) {
    return refusal(503, `${describeStoreFault(error)} The metrics cannot be read now; retry in a few seconds.`, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
  }
}

/** 200 when the store answers (status ok or degraded), 503 when it does not (down); the body says which. */
export async function healthAnswer(workspace: Workspace): Promise<EndpointAnswer> {
  const health = await workspace.health();
  return {
    status: health.status === 'down' ? 503 : 200,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...(health.status === 'down' ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {}) },
    body: JSON.stringify(health),
  };
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
