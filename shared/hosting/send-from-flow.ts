import type { AttachedFileInput } from '../attachments';
import { validateSendPayload } from '../contract';
import type { SendRequest } from '../contract/types';
import { acceptedPayload, type AcceptedPayload } from '../outbox/payloads';
import type { Result } from '../rejection';
import type { Acceptance, Workspace } from '../workspace/workspace';

/** A file a flow attached to its send (a Node-RED Buffer, an n8n binary property). */
export interface FlowAttachment extends AttachedFileInput {
  readonly name: string;
}

export interface FlowSend {
  readonly acceptance: Acceptance;
  readonly request: SendRequest;
  /** What the flow receives, in the webhook's shape (the same in both engines). */
  readonly payload: AcceptedPayload;
}

/**
 * A send step in a flow (Node-RED's whatsapp-send, n8n's Send Message): the payload in the webhook's
 * JSON shape is validated, accepted and answered exactly as a webhook call would be. `from` names the
 * node for the attempt log. Refusals come back as values with the webhook's status and sentence.
 */
export async function sendFromFlow(workspace: Workspace, payload: unknown, from: string, attachment?: FlowAttachment): Promise<Result<FlowSend>> {
  const parsed = validateSendPayload(payload, attachment && { name: attachment.name });
  if (!parsed.ok) return parsed;
  const source = { remoteAddress: from, request: JSON.stringify(payload) };
  const accepted = await workspace.accept(parsed.value, source, attachment);
  if (!accepted.ok) return accepted;
  return { ok: true, value: { acceptance: accepted.value, request: parsed.value, payload: acceptedPayload(accepted.value, parsed.value) } };
}
