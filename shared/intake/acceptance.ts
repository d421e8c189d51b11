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

/**
 * A request the webhook took: it is also handed to flows through the feed (followAccepted), tagged with
 * the entry point (`via`) that took it. A flow's own sends have no origin: they are answered to that flow.
 */
export interface AcceptOrigin {
  readonly via?: string;
}
