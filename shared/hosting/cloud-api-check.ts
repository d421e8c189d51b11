import { fail, ok, reject, type Result } from '../rejection';
import type { CloudApiSettings } from '../transport/cloud-api/connection';
import { GraphClient } from '../transport/cloud-api/graph-client';
import { TransportError } from '../transport/types';

export interface CloudApiNumberFacts {
  /** Digits, as Meta shows the number. */
  readonly phone: string | null;
  readonly verifiedName: string | null;
}

/**
 * Whether the token and the phone number ID work together, asked of the Graph API once (an editor's "Test"
 * button): the number's facts, or the sentence its error maps to (an expired token, an unknown number).
 */
export async function checkCloudApiNumber(settings: CloudApiSettings, fetchImpl?: typeof fetch): Promise<Result<CloudApiNumberFacts>> {
  const client = new GraphClient({
    phoneNumberId: settings.phoneNumberId,
    accessToken: settings.accessToken,
    timeoutMs: 10_000,
    ...(settings.graphBaseUrl ? { baseUrl: settings.graphBaseUrl } : {}),
    ...(settings.graphVersion ? { version: settings.graphVersion } : {}),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  try {
    const info = await client.checkNumber();
    return ok({ phone: info.displayPhoneNumber?.replace(/\D/g, '') || null, verifiedName: info.verifiedName });
  } catch (error) {
    const reason = error instanceof TransportError ? error.reason : String(error);
    return fail(reject(400, `The WhatsApp Cloud API number ${settings.phoneNumberId} did not check out: ${reason}`, 'cloudApiAccessToken'));
  }
}

/** One line for an editor: the number as Meta knows it. */
export function describeCloudApiNumber(facts: CloudApiNumberFacts): string {
  const who = facts.phone ? `+${facts.phone}` : 'the number';
  return `WhatsApp Cloud API: ${who}${facts.verifiedName ? ` (${facts.verifiedName})` : ''} answers with this token`;
}
