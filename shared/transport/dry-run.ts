import { EventEmitter } from 'node:events';
import type { AccountState } from '../model';
import type { DryRunRepository } from '../store/types';
import type { TransportDriver } from './driver';
import type { OutgoingMedia, PhoneLookup, SendOptions, StatusUpdate, Transport } from './types';

/**
 * Numbers ending in this suffix are "not on WhatsApp" for a dry-run account, so a flow's failure path
 * (failed message, refunded quota) can be tried without a phone.
 */
export const DRY_RUN_NOT_ON_WHATSAPP_SUFFIX = '0000';

/**
 * An account that records messages instead of sending them: users try flows without a phone, and tests
 * see exactly what would have gone out. Records are keyed by message id, as WhatsApp dedupes resends.
 */
export class DryRunTransport implements Transport {
  readonly state: AccountState = 'open';
  private readonly events = new EventEmitter();

  constructor(
    private readonly accountId: string,
    readonly phone: string | null,
    private readonly log: DryRunRepository,
    private readonly now: () => number,
  ) {}

  isReady(): boolean {
    return true;
  }

  async resolvePhone(digits: string): Promise<PhoneLookup> {
    return digits.endsWith(DRY_RUN_NOT_ON_WHATSAPP_SUFFIX)
      ? { onWhatsApp: false }
      : { onWhatsApp: true, jid: `${digits}@s.whatsapp.net` };
  }

  // A reply's quote changes nothing in what a dry-run account records.
  async sendText(jid: string, text: string, messageId: string, _options?: SendOptions): Promise<void> {
    await this.log.record({ id: messageId, accountId: this.accountId, jid, kind: 'text', text, fileName: null, mimetype: null, bytes: null, at: this.now() });
    this.deliver(messageId);
  }

  async sendMedia(jid: string, media: OutgoingMedia, messageId: string, _options?: SendOptions): Promise<void> {
    await this.log.record({
      id: messageId,
      accountId: this.accountId,
      jid,
      kind: media.kind,
      text: null,
      fileName: media.fileName,
      mimetype: media.mimetype,
      bytes: media.buffer.length,
      at: this.now(),
    });
    this.deliver(messageId);
  }

  onStatus(listener: (update: StatusUpdate) => void): () => void {
    this.events.on('status', listener);
    return () => this.events.off('status', listener);
  }

  onStateChange(listener: (state: AccountState) => void): () => void {
    this.events.on('state', listener);
    return () => this.events.off('state', listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
  }

  /** A dry-run message counts as delivered as soon as it is recorded, like a phone that is always online. */
  private deliver(messageId: string): void {
    queueMicrotask(() => this.events.emit('status', { messageId, status: 'delivered' } satisfies StatusUpdate));
  }
}

/** Accounts of kind `dry-run`: added by phone, never linked, always open. */
export const dryRunDriver: TransportDriver = {
  kind: 'dry-run',
  open: (account, context) => new DryRunTransport(account.id, account.phone, context.store.dryRun, context.now),
};
