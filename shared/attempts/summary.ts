import { externalMessageId } from '../contract/message-id';
import type { Attempt } from '../model';

/** One row of the "Last sending attempts" table that engines show next to the webhook settings. */
export interface AttemptSummary {
  readonly at: string;
  readonly status: number;
  /** `wa_backend:<id>` for accepted calls, else null. */
  readonly messageId: string | null;
  /** What happened, in a few words: the error sentence, or the message's latest outcome. */
  readonly result: string;
}

/** The newest `count` attempts, short enough for a table in an editor. */
export function summarizeAttempts(attempts: readonly Attempt[], count = 10): AttemptSummary[] {
  return attempts.slice(0, count).map((attempt) => ({
    at: new Date(attempt.at).toISOString(),
    status: attempt.status,
    messageId: attempt.messageId === null ? null : externalMessageId(attempt.messageId),
    result: attempt.status === 200 ? (attempt.outcome ?? 'accepted, queued') : errorSentence(attempt.response),
  }));
}

/**
 * "Download log": the last 100 attempts as a JSON document, newest first, with the request exactly as
 * received (up to 4 KiB) so a sender can debug its format.
 */
export function attemptLogJson(attempts: readonly Attempt[], exportedAt: number): string {
  return JSON.stringify(
    {
      exported_at: new Date(exportedAt).toISOString(),
      attempts: attempts.map((attempt) => ({
        at: new Date(attempt.at).toISOString(),
        remote_address: attempt.remoteAddress,
        status: attempt.status,
        request: attempt.request,
        response: attempt.response,
        message_id: attempt.messageId === null ? null : externalMessageId(attempt.messageId),
        notes: attempt.notes,
        outcome: attempt.outcome,
        outcome_at: attempt.outcomeAt === null ? null : new Date(attempt.outcomeAt).toISOString(),
      })),
    },
    null,
    2,
  );
}

/** The sentence of an error answer as logged (its JSON body's `message`), or the body itself. */
export function errorSentence(response: string): string {
  try {
    const body = JSON.parse(response) as { message?: unknown };
    return typeof body.message === 'string' ? body.message : response;
  } catch {
    return response;
  }
}
