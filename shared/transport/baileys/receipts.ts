import type { ReceiptStatus } from '../../model';
import type { StatusUpdate } from '../types';
import type {
  MessageUserReceiptUpdate,
  NewChatMessageCapInfo,
  ReachoutTimelockState,
  WAMessage,
  WAMessageUpdate,
} from './baileys-module';

/**
 * Pure translations of what WhatsApp reports back (receipts, error acknowledgements, restrictions)
 * into the core's status updates and account pauses.
 */

/** `proto.WebMessageInfo.Status`, as Baileys reports it in `messages.update`. */
export const WA_STATUS = { ERROR: 0, PENDING: 1, SERVER_ACK: 2, DELIVERY_ACK: 3, READ: 4, PLAYED: 5 } as const;

const RECEIPT_BY_STATUS: Readonly<Record<number, ReceiptStatus>> = {
  [WA_STATUS.DELIVERY_ACK]: 'delivered',
  [WA_STATUS.READ]: 'read',
  [WA_STATUS.PLAYED]: 'played',
};

export const RESTRICTED_REASON = 'WhatsApp restricted this account from starting new chats';

/** Why sending is paused. Several can hold at once; the account sends again when none does. */
export type PauseSource = 'restriction' | 'reachout' | 'capping';

export type PauseSignal =
  /** `until` null: WhatsApp gave no end, the connection applies its default pause. */
  | { readonly kind: 'pause'; readonly source: PauseSource; readonly until: number | null; readonly reason: string }
  | { readonly kind: 'resume'; readonly source: PauseSource };

/** A 463 error ack: the message and the JID it was sent to (restriction-policy.ts decides what follows). */
export interface Refusal463Ack {
  readonly messageId: string;
  readonly sentTo: string;
}

export interface Translated {
  readonly statuses: StatusUpdate[];
  /** 463s are not failed here: one may be resent by LID, and only a repeat pauses the account. */
  readonly refusals463: Refusal463Ack[];
}

/** 1:1 receipts (3 delivered, 4 read, 5 played) and error acks (status 0) of our own messages. */
export function fromMessageUpdates(updates: readonly WAMessageUpdate[]): Translated {
  const statuses: StatusUpdate[] = [];
  const refusals463: Refusal463Ack[] = [];
  for (const { key, update } of updates) {
    if (key.fromMe === false || !key.id || typeof update.status !== 'number') continue;
    if (update.status === WA_STATUS.ERROR) {
      const code = update.messageStubParameters?.[0] ?? undefined;
      if (code === '463') refusals463.push({ messageId: key.id, sentTo: key.remoteJid ?? '' });
      else statuses.push({ messageId: key.id, status: 'failed', reason: explainAckError(code) });
      continue;
    }
    const receipt = RECEIPT_BY_STATUS[update.status];
    if (receipt) statuses.push({ messageId: key.id, status: receipt });
  }
  return { statuses, refusals463 };
}

/**
 * Our own messages in `messages.upsert`. While Baileys buffers events, a receipt or error ack that
 * arrives for a message upserted in the same batch is merged into that message (its `status`,
 * `messageStubParameters` and `userReceipt`) and no `messages.update` is emitted for it.
 */
export function fromUpserts(messages: readonly WAMessage[]): Translated {
  const mine = messages.filter((message) => message.key.fromMe === true && message.key.id);
  const updates: WAMessageUpdate[] = mine
    .filter((message) => typeof message.status === 'number')
    .map((message) => ({ key: message.key, update: { status: message.status, messageStubParameters: message.messageStubParameters ?? null } }));
  const translated = fromMessageUpdates(updates);
  const receipts = mine.flatMap((message) => (message.userReceipt ?? []).map((receipt) => ({ key: message.key, receipt })));
  return { statuses: [...translated.statuses, ...fromReceiptUpdates(receipts as MessageUserReceiptUpdate[])], refusals463: translated.refusals463 };
}

/** Group receipts arrive per participant; the first participant's receipt moves the message. */
export function fromReceiptUpdates(updates: readonly MessageUserReceiptUpdate[]): StatusUpdate[] {
  const statuses: StatusUpdate[] = [];
  for (const { key, receipt } of updates) {
    if (key.fromMe === false || !key.id) continue;
    const status: ReceiptStatus | undefined = receipt.playedTimestamp
      ? 'played'
      : receipt.readTimestamp
        ? 'read'
        : receipt.receiptTimestamp
          ? 'delivered'
          : undefined;
    if (status) statuses.push({ messageId: key.id, status });
  }
  return statuses;
}

/** `connection.update.reachoutTimeLock`: WhatsApp blocks starting chats until a time. */
export function fromReachoutTimeLock(lock: ReachoutTimelockState): PauseSignal {
  if (!lock.isActive) return { kind: 'resume', source: 'reachout' };
  const until = lock.timeEnforcementEnds ? new Date(lock.timeEnforcementEnds).getTime() : null;
  const type = String(lock.enforcementType ?? 'DEFAULT');
  const kind = type === 'DEFAULT' ? '' : ` (${type})`;
  return {
    kind: 'pause',
    source: 'reachout',
    until: until !== null && Number.isFinite(until) ? until : null,
    reason: `${RESTRICTED_REASON}${kind}${until ? ` until ${new Date(until).toISOString()}` : ''}.`,
  };
}

/** `message-capping.update`: only CAPPED stops sending; warnings and NONE let it go on. */
export function fromMessageCapping(info: NewChatMessageCapInfo): PauseSignal {
  if (String(info.capping_status) !== 'CAPPED') return { kind: 'resume', source: 'capping' };
  const until = whatsAppTime(info.cycle_end_timestamp);
  const used = info.used_quota !== undefined && info.total_quota !== undefined ? ` (${info.used_quota} of ${info.total_quota} used)` : '';
  return {
    kind: 'pause',
    source: 'capping',
    until,
    reason: `WhatsApp capped how many new chats this account may start${used}${until ? ` until ${new Date(until).toISOString()}` : ''}.`,
  };
}

const ACK_ERRORS: Readonly<Record<string, string>> = {
  '463': `${RESTRICTED_REASON} (error 463)`,
  '479': 'WhatsApp rejected the message as invalid (error 479), usually a stale session with the recipient\'s device',
  '403': 'WhatsApp did not allow this message (error 403): the recipient may have blocked this number, or only admins may write in this group',
  '404': 'WhatsApp did not find the recipient (error 404)',
  '406': 'WhatsApp did not accept this message (error 406)',
  '420': 'WhatsApp is rate-limiting this account (error 420)',
  '429': 'WhatsApp is rate-limiting this account (error 429)',
  '500': 'WhatsApp had a server error and did not deliver the message (error 500)',
};

/** An error acknowledgement's code in words a person understands. */
export function explainAckError(code: string | undefined): string {
  if (!code) return 'WhatsApp refused the message without saying why';
  return ACK_ERRORS[code] ?? `WhatsApp refused the message (error ${code})`;
}

/** WhatsApp's timestamps are Unix seconds as text; tolerate milliseconds too. */
function whatsAppTime(value: string | undefined): number | null {
  const number = Number(value);
  if (!value || !Number.isFinite(number) || number <= 0) return null;
  return number < 1e12 ? number * 1000 : number;
}
