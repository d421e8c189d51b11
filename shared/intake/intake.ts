import type { AttachedFileInput } from '../attachments';
import { acceptedAttempt, type AttemptSource } from '../attempts/attempt-log';
import type { SendRequest } from '../contract/types';
import type { Account } from '../model';
import type { ChatDirectory } from '../recipients/directory';
import { resolveRecipient } from '../recipients/resolve';
import { fail, ok, reject, type Rejection, type Result } from '../rejection';
import { QUOTED_MESSAGE_OTHER_ACCOUNT, QUOTED_MESSAGE_UNKNOWN } from '../contract/messages';
import type { AcceptInput, AcceptOutcome, QuotaPolicy, StoredInbound, WorkspaceStore } from '../store/types';
import { describeStoreFault, unavailable } from '../unavailable';
import type { Acceptance, AcceptOrigin } from './acceptance';
import { checkAttached } from './attached-file';
import { buildMessages } from './messages';
import { describeShortfall, periodKeyAt, unitsFor } from './quota';

/** What intake works with; the workspace hands over its own. */
export interface IntakeDeps {
  readonly store: WorkspaceStore;
  readonly directory: ChatDirectory;
  /** The accounts as they are now (they change as phones are linked and removed). */
  readonly accounts: () => readonly Account[];
  readonly quota: QuotaPolicy;
  /** The largest attached file accepted, as for a download. */
  readonly maxFileBytes: number;
  readonly now: () => number;
  readonly randomBytes: (size: number) => Buffer;
  /** Where a store fault goes besides the caller's 503 (the engine's log). */
  readonly reportError: (error: unknown) => void;
}

/** A request checked and built: the one commit that accepts it, and what its caller is answered then. */
export interface PreparedIntake {
  readonly input: AcceptInput;
  readonly acceptance: Acceptance;
}

/**
 * How a commit ended: accepted; refused (not enough quota: the caller logs the refusal); or unrecorded
 * (the store failed: nothing was committed, not even an attempt, and the caller is told to retry).
 */
/** The received message a reply quotes: its id and the account that received it. */
export interface QuotedMessage {
  readonly id: string;
  readonly accountId: string;
}

export type Commit =
  | { readonly kind: 'accepted'; readonly acceptance: Acceptance; readonly at: number }
  | { readonly kind: 'refused'; readonly rejection: Rejection }
  | { readonly kind: 'unrecorded'; readonly rejection: Rejection };

/**
 * The acceptance steps: the attached file against the request, the recipient, the messages with their
 * ids, the units and the quota period, then one commit in the store (quota, messages and attempt).
 * Checking is synchronous, so a refusal is logged in the order calls arrived.
 */
export class Intake {
  constructor(private readonly deps: IntakeDeps) {}

  /** Everything up to the commit; a refusal says why (the caller logs it as an attempt). */
  prepare(
    request: SendRequest,
    source: AttemptSource,
    attached: AttachedFileInput | undefined,
    origin: AcceptOrigin | undefined,
    quoted?: QuotedMessage,
  ): Result<PreparedIntake> {
    const file = checkAttached(request, attached, this.deps.maxFileBytes);
    if (!file.ok) return file;
    const resolved = resolveRecipient(request, this.deps.accounts(), this.deps.directory);
    if (!resolved.ok) return resolved;
    const { account, jid } = resolved.value;
    if (quoted && quoted.accountId !== account.id) return fail(reject(422, QUOTED_MESSAGE_OTHER_ACCOUNT, 'quoted_message_id'));

    const now = this.deps.now();
    const messages = buildMessages(request, { accountId: account.id, jid, quotedId: quoted?.id ?? null }, now, this.deps.randomBytes, origin);
    const requestId = messages[0]!.id;
    const units = unitsFor(request);
    const fileMessage = messages.find((message) => message.part === 'file');
    const input: AcceptInput = {
      messages,
      ...(file.value && fileMessage ? { attachments: [{ messageId: fileMessage.id, data: file.value.buffer, mimetype: file.value.mimetype }] } : {}),
      units,
      quota: this.deps.quota,
      periodKey: periodKeyAt(this.deps.quota.period, now),
      now,
      attempt: acceptedAttempt(source, request, requestId, now),
    };
    return ok({ input, acceptance: { messageId: requestId, messages, account, units } });
  }

  /**
   * The received message a reply quotes (`quoted_message_id`), looked up before the synchronous checks:
   * unknown or pruned is a 422, a store that fails a 503; none asked for is undefined.
   */
  async findQuoted(request: SendRequest): Promise<Result<QuotedMessage | undefined>> {
    if (request.quotedMessageId === undefined) return ok(undefined);
    let stored: StoredInbound | undefined;
    try {
      stored = await this.deps.store.inbound.find(request.quotedMessageId);
    } catch (error) {
      this.deps.reportError(error);
      return fail(unavailable(describeStoreFault(error)));
    }
    if (!stored) return fail(reject(422, QUOTED_MESSAGE_UNKNOWN, 'quoted_message_id'));
    return ok({ id: stored.id, accountId: stored.accountId });
  }

  /** The store's accept; a store that fails (a full disk) is a 503 for the caller, with nothing queued. */
  async commit(prepared: PreparedIntake): Promise<Commit> {
    let outcome: AcceptOutcome;
    try {
      outcome = await this.deps.store.accept(prepared.input);
    } catch (error) {
      this.deps.reportError(error);
      return { kind: 'unrecorded', rejection: unavailable(describeStoreFault(error)) };
    }
    if (!outcome.accepted) return { kind: 'refused', rejection: reject(429, describeShortfall(outcome.available, outcome.needed)) };
    return { kind: 'accepted', acceptance: prepared.acceptance, at: prepared.input.now };
  }
}
