import { RESTRICTED_REASON } from './receipts';

/**
 * What to do when WhatsApp answers a message of ours with error 463 ("restricted from starting new
 * chats"). A 463 has common causes besides a real restriction: a contact WhatsApp has moved to a LID
 * refuses sends to its phone JID (the same send to its `@lid` works), and older Baileys lacked a tctoken.
 * A real restriction shows as refusals to several contacts; retrying to more new contacts worsens it.
 *
 * The rule, for each 463:
 * 1. sent to a phone JID whose LID Baileys knows, and not yet retried: resend the same message (same id)
 *    once, to the LID; this 463 is not counted;
 * 2. otherwise it counts: if another contact had a counted 463 within the hour before, the account is
 *    paused (the message fails with the restriction's reason);
 * 3. otherwise only this message fails: one contact refusing is no restriction of the account, and the
 *    same contact refused twice is still one contact.
 */

/** A counted 463: to whom (the contact as first addressed: its phone JID, or the JID the request named) and when. */
export interface Refusal463 {
  readonly recipient: string;
  readonly at: number;
}

export interface Refused463 {
  readonly recipient: string;
  readonly at: number;
  /** The contact's LID when Baileys knows it and this message was not yet resent to it; else null. */
  readonly lid: string | null;
  /** This 463 answers the resend to the LID. */
  readonly resentByLid: boolean;
}

export type RestrictionDecision =
  | { readonly kind: 'retry-by-lid'; readonly jid: string }
  | { readonly kind: 'fail-message'; readonly reason: string }
  /** `reason` is the pause's; `messageReason` the failed message's. */
  | { readonly kind: 'pause-account'; readonly reason: string; readonly messageReason: string };

export interface RestrictionOutcome {
  readonly decision: RestrictionDecision;
  /** The counted 463s still inside the window, this one included when counted: keep these for the next one. */
  readonly history: readonly Refusal463[];
}

/** Refusals to different contacts within this time pause the account. */
export const REPEAT_WINDOW_MS = 3_600_000;

export const LID_REFUSED_REASON = 'WhatsApp refused to start a chat with this contact (error 463), also when resent to its LID';
export const CONTACT_REFUSED_REASON = 'WhatsApp refused to start a chat with this contact (error 463)';

export function decide463(history: readonly Refusal463[], refused: Refused463, windowMs = REPEAT_WINDOW_MS): RestrictionOutcome {
  const recent = history.filter((entry) => entry.at > refused.at - windowMs && entry.at <= refused.at);
  if (refused.lid !== null) return { decision: { kind: 'retry-by-lid', jid: refused.lid }, history: recent };
  const counted = [...recent, { recipient: refused.recipient, at: refused.at }];
  const contacts = new Set(counted.map((entry) => entry.recipient)).size;
  if (contacts >= 2) {
    return {
      decision: {
        kind: 'pause-account',
        reason: `${RESTRICTED_REASON}: it refused messages to ${contacts} different contacts within an hour (error 463).`,
        messageReason: `${RESTRICTED_REASON} (error 463)`,
      },
      history: counted,
    };
  }
  return { decision: { kind: 'fail-message', reason: refused.resentByLid ? LID_REFUSED_REASON : CONTACT_REFUSED_REASON }, history: counted };
}

/** Only a send to a contact's phone JID can be retried by LID, and only once per message. */
export function mayRetryByLid(sentTo: string, alreadyRetried: boolean): boolean {
  return !alreadyRetried && sentTo.endsWith('@s.whatsapp.net');
}
