import type { FeedSource, Positioned } from '../feed/feed-reader';
import type { FeedRepository, InboundRepository, StoredInbound } from '../store/types';
import type { ReceivedMessage } from './received';
import { bodyOf } from './stored-parts';

/** A stored received message as a feed entry, its body parsed. */
export interface ReceivedEntry extends Positioned {
  readonly stored: StoredInbound;
  readonly message: ReceivedMessage;
}

/**
 * Received messages read as a feed (see FeedReader): positions are the store's seq; reader cursors are
 * kept with the webhook feed's, under names of their own.
 */
export function receivedFeed(inbound: InboundRepository, cursors: Pick<FeedRepository, 'cursor' | 'saveCursor'>): FeedSource<ReceivedEntry> {
  return {
    head: () => inbound.head(),
    cursor: (reader) => cursors.cursor(reader),
    saveCursor: (reader, position, now) => cursors.saveCursor(reader, position, now),
    after: async (position, limit) => {
      const rows = await inbound.after(position, limit);
      return {
        requests: rows.map((stored) => ({ from: stored.seq, to: stored.seq, stored, message: bodyOf(stored) })),
        position: rows.at(-1)?.seq ?? position,
      };
    },
  };
}
