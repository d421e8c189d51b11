import { LateReceipts } from '../dispatch/late-receipts';
import { applyReceipt } from '../dispatch/receipts';
import type { MessageChange } from '../model';
import type { WorkspaceStore } from '../store/types';
import type { CloudApiSettings } from '../transport/cloud-api/connection';
import { cloudApiAccountId } from '../transport/cloud-api/driver';
import type { WebhookEvents } from '../transport/cloud-api/webhook-events';
import type { ReceivedMessages } from './received-messages';

export interface CloudApiIntakeDeps {
  readonly numbers: readonly CloudApiSettings[];
  readonly store: WorkspaceStore;
  readonly received: ReceivedMessages;
  readonly refundDelayMs: number;
  readonly now: () => number;
  /** A message's status moved on: the workspace tells its listeners and the change feed. */
  readonly changed: (change: MessageChange) => void;
  readonly reportError: (error: unknown) => void;
}

/**
 * What the Cloud API's webhook tells this workspace's numbers, taken in whichever process the webhook
 * reached: every step is a store operation, so it needs neither the account's holder nor its connection.
 * Received messages are stored once each (by id); receipts move their message forward only.
 */
export class CloudApiIntake {
  private readonly late: LateReceipts;
  private current: readonly CloudApiSettings[];

  constructor(private readonly deps: CloudApiIntakeDeps) {
    this.current = deps.numbers;
    this.late = new LateReceipts(
      (update) =>
        applyReceipt(
          {
            outbox: deps.store.outbox,
            now: deps.now,
            refundDelayMs: deps.refundDelayMs,
            emit: (message, status, reason, cause) =>
              deps.changed({ messageId: message.id, requestId: message.requestId, accountId: message.accountId, status, reason, at: deps.now(), ...(cause === undefined ? {} : { cause }) }),
          },
          update,
        ),
      deps.reportError,
    );
  }

  /** The numbers the engine's credentials name; a webhook call is verified against their secrets. */
  get numbers(): readonly CloudApiSettings[] {
    return this.current;
  }

  /** A number as the settings name it now: new (`added`), with other values (`changed`), or `same`. */
  use(number: CloudApiSettings): 'added' | 'changed' | 'same' {
    const index = this.current.findIndex((known) => known.phoneNumberId === number.phoneNumberId);
    if (index >= 0 && JSON.stringify(this.current[index]) === JSON.stringify(number)) return 'same';
    this.current = index >= 0 ? this.current.map((known, at) => (at === index ? number : known)) : [...this.current, number];
    return index >= 0 ? 'changed' : 'added';
  }

  /**
   * One verified webhook POST's events for `number`. Resolves once its messages are committed and its
   * receipts applied (those for a send not recorded yet are tried again shortly, see LateReceipts).
   */
  async take(number: CloudApiSettings, events: WebhookEvents): Promise<void> {
    const accountId = cloudApiAccountId(number.phoneNumberId);
    for (const message of events.messages) this.deps.received.take(accountId, message);
    for (const update of events.statuses) await this.late.take(update);
    if (events.messages.length > 0) await this.deps.received.settled();
  }

  close(): void {
    this.late.close();
  }
}
