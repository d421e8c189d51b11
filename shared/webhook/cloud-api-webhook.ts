import { errorBodyFor } from '../contract/responses';
import type { CloudApiSettings } from '../transport/cloud-api/connection';
import { answerVerification, verifySignature } from '../transport/cloud-api/signature';
import { webhookEvents } from '../transport/cloud-api/webhook-events';
import type { Workspace } from '../workspace/workspace';

/** The Cloud API webhook's path segment after the webhook prefix: `…/whatsapp/cloud-api`. */
export const CLOUD_API_PATH_SEGMENT = 'cloud-api';

/** `cloud-api` or `cloud-api?…` (what follows the webhook prefix): the query string, maybe empty; else undefined. */
export function cloudApiQueryOf(rest: string): string | undefined {
  const [path, ...query] = rest.split('?');
  return path === CLOUD_API_PATH_SEGMENT || path === `${CLOUD_API_PATH_SEGMENT}/` ? query.join('?') : undefined;
}

/** Meta's webhook payloads reach 3 MB; bodies above this are refused before any hashing. */
export const CLOUD_API_MAX_BODY_BYTES = 3 * 1024 * 1024;

/** How long a POST may wait for its messages to be committed before Meta is told to send it again. */
const COMMIT_WAIT_MS = 10_000;

/** One call at the Cloud API webhook, as the host received it. */
export interface CloudApiCall {
  readonly method: string | undefined;
  /** The raw query string, without the `?` (the GET verification's hub.* parameters). */
  readonly query: string;
  /** The raw bytes, exactly as received: the signature is over them. */
  readonly body: Buffer | string | undefined;
  /** The X-Hub-Signature-256 header; sent twice, either may carry the valid signature. */
  readonly signature: string | readonly string[] | undefined;
}

/** What the host writes back: the verification's challenge as text, anything else as the contract's JSON. */
export interface CloudApiAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** A refused call worth the engine's log (a wrong verify token, a bad signature): one sentence. */
  readonly warning?: string;
}

const json = (status: number, message: string, headers: Record<string, string> = {}, warning?: string): CloudApiAnswer => ({
  status,
  headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(errorBodyFor(status, message)),
  ...(warning === undefined ? {} : { warning }),
});

interface ConfiguredNumber {
  readonly workspace: Workspace;
  readonly settings: CloudApiSettings;
}

/**
 * Serves Meta's webhook for the Cloud API numbers of `workspaces` (every open workspace of this process
 * that has one). GET is the subscription check: the challenge comes back to a matching verify token.
 * POST carries receipts and messages: taken only when signed with a number's app secret, each
 * number reading its own changes (one Meta app may post for several numbers). `pending`: some
 * workspace that may own the number is still opening, so an unknown call is told to come again.
 */
export async function serveCloudApiCall(workspaces: Iterable<Workspace>, call: CloudApiCall, pending = false): Promise<CloudApiAnswer> {
  const numbers: ConfiguredNumber[] = [];
  for (const workspace of new Set(workspaces)) {
    if (workspace.isOpen) for (const settings of workspace.cloudApi.numbers) numbers.push({ workspace, settings });
  }
  const answer = await answerCall(numbers, call, pending);
  // Counted by every workspace the call could have been for: a refused signature belongs to none of them.
  for (const workspace of new Set(numbers.map((number) => number.workspace))) workspace.cloudApiWebhookAnswered(answer.status);
  return answer;
}

async function answerCall(numbers: readonly ConfiguredNumber[], call: CloudApiCall, pending: boolean): Promise<CloudApiAnswer> {
  const method = (call.method ?? '').toUpperCase();
  if (method !== 'GET' && method !== 'POST') {
    return json(405, `Method ${method || '(none)'} is not allowed: Meta's webhook calls use GET (verification) and POST (events).`, { Allow: 'GET, POST' });
  }
  if (numbers.length === 0) {
    if (pending) return json(503, 'The WhatsApp workspace is opening; try again in a few seconds.', { 'Retry-After': '5' });
    return json(404, 'No WhatsApp Cloud API number is set up here: set its phone number id and secrets in the workspace settings.');
  }
  return method === 'GET' ? verify(numbers, call.query) : receive(numbers, call);
}

function verify(numbers: readonly ConfiguredNumber[], query: string): CloudApiAnswer {
  const params = new URLSearchParams(query);
  let reason = '';
  for (const { settings } of numbers) {
    const checked = answerVerification(params, settings.verifyToken);
    // The challenge is echoed as sent: as plain text that no browser may sniff into a page.
    if (checked.ok) return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }, body: checked.challenge };
    reason = checked.reason;
  }
  const sentence = `The webhook verification was refused: ${reason}.`;
  return json(403, sentence, {}, sentence);
}

async function receive(numbers: readonly ConfiguredNumber[], call: CloudApiCall): Promise<CloudApiAnswer> {
  const body = call.body ?? '';
  if (Buffer.byteLength(body) > CLOUD_API_MAX_BODY_BYTES) {
    return json(413, `The body is larger than the limit of ${CLOUD_API_MAX_BODY_BYTES} bytes (3 MiB); Meta's webhook bodies are smaller.`, { Connection: 'close' });
  }
  const headers = signatureHeaders(call.signature);
  const signed: ConfiguredNumber[] = [];
  let reason = '';
  for (const number of numbers) {
    const checks = (headers.length > 0 ? headers : [undefined]).map((header) => verifySignature(body, header, number.settings.appSecret));
    if (checks.some((checked) => checked.ok)) {
      signed.push(number);
      continue;
    }
    const [first] = checks;
    if (first && !first.ok) reason = first.reason;
  }
  if (signed.length === 0) {
    const sentence = `The webhook call was refused: ${reason}; it must be signed with the app secret of a configured number.`;
    return json(401, sentence, {}, sentence);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : body);
  } catch {
    return json(400, 'The body is not JSON: Meta posts a JSON object with "entry" holding the changes.');
  }
  try {
    const taken = Promise.all(signed.map(({ workspace, settings }) => workspace.cloudApi.take(settings, webhookEvents(parsed, settings.phoneNumberId))));
    if (!(await settledWithin(taken, COMMIT_WAIT_MS))) {
      // Meta retries what is not answered 200; the store ignores a message it already has.
      return json(503, 'The workspace store did not commit the received messages in time; Meta will send them again.', { 'Retry-After': '30' });
    }
  } catch (error) {
    for (const { workspace } of signed) workspace.reportError(error);
    return json(500, 'Internal error; the events were not recorded, and Meta will send them again.');
  }
  return json(200, 'Received.');
}

/** The signatures a call carries: Node joins a repeated header with ", ", an engine may hand over a list. */
function signatureHeaders(signature: CloudApiCall['signature']): string[] {
  const values = typeof signature === 'string' ? [signature] : [...(signature ?? [])];
  return values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
}

async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
