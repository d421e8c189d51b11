import { loggedRequest, type AttemptSource } from '../attempts/attempt-log';
import { parseSendRequest } from '../contract';
import { errorBody, successBody, type ErrorBody, type SuccessBody } from '../contract/responses';
import { reject, type Rejection } from '../rejection';
import { describeStoreFault, unavailable } from '../unavailable';
import type { SendRequest } from '../contract/types';
import type { Acceptance, TokenCheck, Workspace } from '../workspace/workspace';

/** Bodies above this are refused with 413 before parsing. */
export const MAX_BODY_BYTES = 256 * 1024;
const BODY_TOO_LARGE = `The body is larger than the limit of ${MAX_BODY_BYTES} bytes (256 KiB); send a smaller request.`;

/** One HTTP call to the webhook, as any engine can describe it. */
export interface WebhookCall {
  readonly method: string;
  /** The Content-Type header, if any. */
  readonly contentType: string | undefined;
  /** The raw body bytes, exactly as received (engines must not parse it first). */
  readonly body: Buffer | string | undefined;
  /** The secret token from the URL path. */
  readonly token: string;
  readonly remoteAddress: string | null;
  /** Which entry point took the call (an n8n trigger's key): feed readers can follow one entry point only. */
  readonly via?: string;
}

export interface WebhookAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: SuccessBody | ErrorBody;
}

/** The answer, and for an accepted call what was accepted (engines emit it to their flows). */
export interface WebhookOutcome {
  readonly answer: WebhookAnswer;
  readonly accepted?: { readonly acceptance: Acceptance; readonly request: SendRequest };
}

/** The contract as one function from an HTTP call to an HTTP answer (see serveWebhookCall). */
export async function handleWebhookCall(workspace: Workspace, call: WebhookCall): Promise<WebhookAnswer> {
  return (await serveWebhookCall(workspace, call)).answer;
}

/** A call that passed every check before acceptance: the validated request and who sent it. */
export interface ScreenedCall {
  readonly request: SendRequest;
  /** Who sent it, and the body as the attempt log keeps it (its first 4 KiB). */
  readonly source: AttemptSource;
}

/**
 * Every check of the contract that comes before acceptance (token, method, content type, size, JSON,
 * fields), in an order that never reveals more than the caller may know: an unknown URL learns nothing
 * else. Refusals are written to the attempt log. Engines that let a workflow decide whether to send
 * (n8n's "Pass to workflow") stop here; serveWebhookCall goes on to accept.
 */
export async function screenWebhookCall(
  workspace: Workspace,
  call: WebhookCall,
  /** The token's check when the caller already made it (a router choosing among workspaces). */
  token: TokenCheck = workspace.checkToken(call.token),
): Promise<{ readonly ok: true; readonly call: ScreenedCall } | { readonly ok: false; readonly outcome: WebhookOutcome }> {
  const outcome = (rejection: Rejection, headers: Record<string, string> = {}) => {
    workspace.webhookAnswered(rejection.status);
    return { ok: false as const, outcome: { answer: answer(rejection, headers) } };
  };
  if (token === 'unknown') return outcome(reject(404, 'Webhook not found'));

  // Cut on the body's bytes, as received: the log keeps 4 KiB of it, and the rest need not be decoded.
  const source = { remoteAddress: call.remoteAddress, request: loggedRequest(call.body) };
  const refuse = async (rejection: Rejection, headers: Record<string, string> = {}) => {
    await workspace.refuse(rejection, source);
    return outcome(rejection, headers);
  };

  if (token === 'disabled') return refuse(reject(403, 'Webhook disabled'));
  if (call.method.toUpperCase() !== 'POST') {
    return refuse(reject(405, `Method ${call.method.toUpperCase()} is not allowed: send the request with POST.`), { Allow: 'POST' });
  }
  if (!isJson(call.contentType)) {
    const shown = call.contentType && call.contentType.length > 60 ? `${call.contentType.slice(0, 60)}…` : call.contentType;
    const got = shown ? `is "${shown}"` : 'is missing';
    return refuse(reject(415, `The Content-Type header ${got}; send the body as application/json.`));
  }
  const size = typeof call.body === 'string' ? Buffer.byteLength(call.body) : (call.body?.length ?? 0);
  if (size > MAX_BODY_BYTES) {
    // Engines stop reading one byte past the limit, so the real size is unknown: state the limit.
    return refuse(reject(413, BODY_TOO_LARGE));
  }

  const parsed = parseSendRequest(call.body ?? '');
  if (!parsed.ok) return refuse(parsed.rejection);
  return { ok: true, call: { request: parsed.value, source } };
}

/**
 * The whole inbound-webhook contract, so that every engine serves exactly the same statuses and bodies.
 * Every answer it (or screenWebhookCall) gives is counted in the workspace's metrics by status.
 */
export async function serveWebhookCall(
  workspace: Workspace,
  call: WebhookCall,
  token: TokenCheck = workspace.checkToken(call.token),
): Promise<WebhookOutcome> {
  const screened = await screenWebhookCall(workspace, call, token);
  if (!screened.ok) return screened.outcome;
  const { request, source } = screened.call;
  // accept() answers a store fault itself (503); anything else thrown there is treated the same way:
  // nothing was committed, so the caller is told to retry, never that it succeeded.
  const accepted = await workspace.accept(request, source, undefined, { via: call.via }).catch((error: unknown) => ({ ok: false as const, rejection: storeFault(workspace, error) }));
  workspace.webhookAnswered(accepted.ok ? 200 : accepted.rejection.status);
  if (!accepted.ok) return { answer: answer(accepted.rejection) };
  return {
    answer: { status: 200, headers: {}, body: successBody(accepted.value.messageId) },
    accepted: { acceptance: accepted.value, request },
  };
}

/** The answer to a call the store could not record: 503 with the reason, reported to the engine's log. */
function storeFault(workspace: Workspace, error: unknown): Rejection {
  workspace.reportError(error);
  return unavailable(describeStoreFault(error));
}

/** The contract's answer for a refusal: its status, its body, and Retry-After when it has one. */
export function answer(rejection: Rejection, headers: Record<string, string> = {}): WebhookAnswer {
  const withRetry = rejection.retryAfterSeconds === undefined ? headers : { ...headers, 'Retry-After': String(rejection.retryAfterSeconds) };
  return { status: rejection.status, headers: withRetry, body: errorBody(rejection) };
}

/** application/json with any parameters (charset=utf-8 and the like), case-insensitive. */
function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === 'application/json';
}
