import type { EventEmitter } from 'node:events';
import type { AccountRuntime } from '../accounts/account-runtime';
import { FeedReader, startFollower, type FeedFollower, type FeedReaderOptions } from '../feed/feed-reader';
import { Arrivals } from '../inbound/arrivals';
import { matchesFilter, type ReceivedFilter } from '../inbound/filter';
import { receivedFeed, type ReceivedEntry } from '../inbound/received-feed';
import { bodyOf, referenceOf } from '../inbound/stored-parts';
import type { ReceivedMessage } from '../inbound/received';
import type { ChatDirectory } from '../recipients/directory';
import type { StoreChange, StoredInbound, WorkspaceStore } from '../store/types';
import type { IncomingMessage, MessageReference } from '../transport/types';

/** How long closing waits for received messages still being stored. */
const CLOSE_GRACE_MS = 3_000;

/** How a trigger follows received messages (see FeedReader): which it emits, and where it got to. */
export type ReceivedFollowOptions = Omit<FeedReaderOptions<ReceivedItem, ReceivedEntry>, 'toItem' | 'accepts'> & {
  readonly filter: ReceivedFilter;
  /** Only what the process with this tag received (see WorkspaceOptions.processTag); absent: everything. */
  readonly via?: string;
};

/** What a trigger is handed: the message as flows see it, and the stored record (for media and marking read). */
export interface ReceivedItem {
  readonly message: ReceivedMessage;
  readonly stored: StoredInbound;
}

/** A received message's media for a flow: the bytes, or why there are none. */
export type ReceivedMedia =
  | { readonly ok: true; readonly data: Buffer; readonly mimetype: string; readonly fileName: string }
  | { readonly ok: false; readonly reason: string };

export interface ReceivedMessagesDeps {
  readonly store: WorkspaceStore;
  readonly directory: ChatDirectory;
  readonly runtime: () => AccountRuntime;
  /** The workspace's own events: 'received' wakes its readers. */
  readonly events: EventEmitter;
  readonly journal: (change: StoreChange) => void;
  /** Tags what this process receives (WorkspaceOptions.processTag). */
  readonly processTag?: string;
  readonly now: () => number;
  readonly reportError: (error: unknown) => void;
}

/**
 * The received side of a workspace: stores what the transports report (once each), hands it to triggers
 * from the durable record (each resumes after the last message it emitted), marks messages read through
 * whichever process holds the account. Messages past the retention window are dropped by the
 * workspace's Retention (retention.ts), with the outgoing ones.
 */
export class ReceivedMessages {
  private readonly arrivals: Arrivals;
  private readonly readers = new Set<FeedReader<ReceivedItem, ReceivedEntry>>();

  constructor(private readonly deps: ReceivedMessagesDeps) {
    this.arrivals = new Arrivals({
      inbound: deps.store.inbound,
      directory: deps.directory,
      via: deps.processTag,
      now: deps.now,
      phoneOf: (accountId) => deps.runtime().list.find((account) => account.id === accountId)?.phone ?? null,
      stored: () => {
        deps.journal({ kind: 'received' });
        deps.events.emit('received');
      },
      reportError: deps.reportError,
    });
  }

  /** A transport reported a new message on an account held here. */
  take(accountId: string, message: IncomingMessage): void {
    this.arrivals.take(accountId, message);
  }

  /** Resolves once what was taken so far is stored (tests; a closing workspace). */
  settled(): Promise<void> {
    return this.arrivals.settled();
  }

  /** For a trigger seen for the first time, or one that must not replay: moves it to the newest message. */
  async skip(reader: string): Promise<void> {
    await this.deps.store.feed.saveCursor(reader, await this.deps.store.inbound.head(), this.deps.now());
  }

  /**
   * Hands received messages that pass the filter to a flow, from the durable record: after a redeploy or
   * restart the reader named `options.reader` resumes after the last message it handed over.
   */
  async follow(options: ReceivedFollowOptions): Promise<FeedFollower> {
    const { filter, via, ...rest } = options;
    const accepts = (entry: ReceivedEntry) => (via === undefined || entry.stored.via === via) && matchesFilter(entry.message, filter);
    const reader = new FeedReader<ReceivedItem, ReceivedEntry>(
      { ...rest, accepts, toItem: (entry) => ({ message: entry.message, stored: entry.stored }) },
      {
        feed: receivedFeed(this.deps.store.inbound, this.deps.store.feed),
        now: this.deps.now,
        onError: this.deps.reportError,
        subscribe: (wake) => {
          this.deps.events.on('received', wake);
          return () => this.deps.events.off('received', wake);
        },
      },
    );
    return startFollower(reader, this.readers);
  }

  /**
   * Marks received messages read (blue ticks). Where another process holds the account, it is asked
   * through the change feed and does it; a transport that cannot mark messages read skips it.
   */
  async markRead(messages: readonly StoredInbound[]): Promise<void> {
    const byAccount = new Map<string, StoredInbound[]>();
    for (const message of messages) {
      const group = byAccount.get(message.accountId);
      if (group) group.push(message);
      else byAccount.set(message.accountId, [message]);
    }
    for (const [accountId, stored] of byAccount) {
      const references = stored.map(referenceOf);
      if ((await this.deps.runtime().markRead(accountId, references)) === 'elsewhere') {
        this.deps.journal({ kind: 'read', accountId, ids: stored.map((message) => message.id) });
      }
    }
  }

  /** Marks read what a trigger handed over, but for the account's own messages (nobody waits for their ticks). */
  async markHandedOverRead(items: readonly ReceivedItem[]): Promise<void> {
    const unread = items.filter((item) => !item.message.from_me).map((item) => item.stored);
    if (unread.length > 0) await this.markRead(unread);
  }

  /** Another process asked to mark messages read on an account: done here if this process holds it. */
  async readAsked(accountId: string, ids: readonly string[]): Promise<void> {
    const references: MessageReference[] = [];
    for (const id of ids) {
      const stored = await this.deps.store.inbound.find(id, accountId);
      if (stored) references.push(referenceOf(stored));
    }
    if (references.length > 0) await this.deps.runtime().markRead(accountId, references);
  }

  /** A received message's media, up to `maxBytes` (announced size and downloaded size both count). */
  async media(stored: StoredInbound, maxBytes: number): Promise<ReceivedMedia> {
    const message = bodyOf(stored);
    if (!message.media) return { ok: false, reason: 'This message has no media.' };
    const limit = `${(maxBytes / 1_048_576).toFixed(1)} MB`;
    if (message.media.size !== null && message.media.size > maxBytes) {
      return { ok: false, reason: `The media (${message.media.size} bytes) is larger than the ${limit} download limit; raise the limit to receive it.` };
    }
    const reference = referenceOf(stored);
    let data: Buffer | undefined;
    try {
      data = await this.deps.runtime().downloadMedia(stored.accountId, reference.raw);
    } catch (error) {
      return { ok: false, reason: `The media could not be downloaded: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (data === undefined) return { ok: false, reason: 'The media is downloaded only by the process connected to this account; it is not connected here.' };
    if (data.length > maxBytes) return { ok: false, reason: `The media (${data.length} bytes) is larger than the ${limit} download limit; raise the limit to receive it.` };
    return { ok: true, data, mimetype: message.media.mimetype ?? 'application/octet-stream', fileName: message.media.file_name ?? `${message.id}` };
  }

  /** Stops every reader (each writes where it got to). */
  async close(): Promise<void> {
    // What arrived just before closing is stored first, unless the store is not answering.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.arrivals.settled(), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
    clearTimeout(timer);
    this.arrivals.close();
    await Promise.all([...this.readers].map((reader) => reader.stop()));
    this.readers.clear();
  }
}
