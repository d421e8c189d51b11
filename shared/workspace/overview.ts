import { externalMessageId } from '../contract/message-id';
import { errorSentence } from '../attempts/summary';
import type { AccountKind, AccountState, Attempt, OutboxMessage, QuotaState } from '../model';
import type { Workspace } from './workspace';

/** One account as an editor lists it at a glance. */
export interface AccountOverview {
  readonly id: string;
  readonly kind: AccountKind;
  readonly phone: string | null;
  readonly name: string | null;
  /** Null when this workspace does not connect the account. */
  readonly state: AccountState | null;
  /** Why it is paused, logged out, replaced or reconnecting, in one sentence; null when it is fine. */
  readonly detail: string | null;
  /** ISO time a pause lifts, when paused. */
  readonly pausedUntil: string | null;
  /** Why sending is paused, while a pause holds (also while reconnecting, when `detail` says why it is down). */
  readonly pauseReason: string | null;
  /** Messages waiting to be sent from it (queued or sending). */
  readonly queued: number;
}

/** A call the webhook refused, or a message that could not be sent. */
export interface FailureSummary {
  /** ISO time of the refusal, or of the failure. */
  readonly at: string;
  /** `refused`: the call got a 4xx/5xx and nothing was queued; `failed`: an accepted message was not sent. */
  readonly kind: 'refused' | 'failed';
  /** The answer's status for a refusal; null for a failed message. */
  readonly status: number | null;
  /** `wa_backend:<id>` the webhook answered with, for a failed message. */
  readonly messageId: string | null;
  /** The account it was to be sent from, when known. */
  readonly accountId: string | null;
  readonly reason: string;
}

export interface WorkspaceOverview {
  readonly webhook: { readonly token: string; readonly enabled: boolean };
  readonly quota: QuotaState;
  readonly accounts: readonly AccountOverview[];
  /** Newest first: refusals from the attempt log, failed messages from the outbox (and the log's outcomes). */
  readonly failures: readonly FailureSummary[];
}

/** How many failures an overview lists. */
export const OVERVIEW_FAILURES = 5;

/** The workspace at a glance: what an editor's side panel shows for it. */
export async function workspaceOverview(workspace: Workspace, failureCount = OVERVIEW_FAILURES): Promise<WorkspaceOverview> {
  const connections = workspace.connections();
  const [quota, depths, attempts, failed] = await Promise.all([
    workspace.quota(),
    workspace.queueDepths(),
    workspace.attempts(),
    Promise.all(connections.map((connection) => workspace.failedMessages(connection.account.id, failureCount))),
  ]);
  const { token, enabled } = workspace.webhookState();
  return {
    webhook: { token, enabled },
    quota,
    accounts: connections.map(({ account, state, detail, pausedUntil, pauseReason }) => ({
      id: account.id,
      kind: account.kind,
      phone: account.phone,
      name: account.name,
      state,
      detail,
      pausedUntil: pausedUntil === null ? null : new Date(pausedUntil).toISOString(),
      pauseReason,
      queued: depths.get(account.id) ?? 0,
    })),
    failures: lastFailures(attempts, failed.flat(), failureCount),
  };
}

/**
 * Merges the attempt log's refusals and failed outcomes with the outbox's failed messages, newest first.
 * The outbox is the fuller record (it names the account, and keeps failures whose attempt left the log's
 * last 100), so an attempt's "failed" outcome is listed only when none of its request's messages is.
 */
export function lastFailures(attempts: readonly Attempt[], failedMessages: readonly OutboxMessage[], count: number): FailureSummary[] {
  const fromOutbox = new Set(failedMessages.map((message) => message.requestId));
  const failures: { at: number; summary: FailureSummary }[] = failedMessages.map((message) => ({
    at: message.updatedAt,
    summary: failure(message.updatedAt, 'failed', null, message.requestId, message.accountId, message.reason ?? 'failed'),
  }));
  for (const attempt of attempts) {
    if (attempt.status !== 200) {
      failures.push({ at: attempt.at, summary: failure(attempt.at, 'refused', attempt.status, null, null, errorSentence(attempt.response)) });
    } else if (attempt.outcome?.startsWith('failed') && attempt.messageId !== null && !fromOutbox.has(attempt.messageId)) {
      const at = attempt.outcomeAt ?? attempt.at;
      failures.push({ at, summary: failure(at, 'failed', null, attempt.messageId, null, attempt.outcome.replace(/^failed:?\s*/, '') || 'failed') });
    }
  }
  return failures
    .sort((a, b) => b.at - a.at)
    .slice(0, count)
    .map((entry) => entry.summary);
}

function failure(at: number, kind: FailureSummary['kind'], status: number | null, requestId: string | null, accountId: string | null, reason: string): FailureSummary {
  return { at: new Date(at).toISOString(), kind, status, messageId: requestId === null ? null : externalMessageId(requestId), accountId, reason };
}
