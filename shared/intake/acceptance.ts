import type { Account } from '../model';
import type { NewMessage } from '../store/types';

/** A request the workspace accepted: committed, charged and queued. */
export interface Acceptance {
  /** The WhatsApp id of the request's first message; the webhook answers `wa_backend:` + this. */
  readonly messageId: string;
  readonly messages: readonly NewMessage[];
  readonly account: Account;
  readonly units: number;
}
