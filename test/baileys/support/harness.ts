import { join } from 'node:path';
import type { AccountState, ChatInput } from '../../../shared/model';
import { SqliteStore } from '../../../shared/store/sqlite';
import type { WorkspaceStore } from '../../../shared/store/types';
import { loadAuthState } from '../../../shared/transport/baileys/auth-state';
import {
  BaileysConnection,
  type BaileysConnectionOptions,
  type ConnectionMode,
} from '../../../shared/transport/baileys/connection';
import type { DirectorySink } from '../../../shared/transport/baileys/directory-sync';
import { SILENT_LOGGER } from '../../../shared/transport/baileys/logger';
import type { StatusUpdate } from '../../../shared/transport/types';
import { tempDir } from '../../support/temp';
import { FakeClock, settle } from './fake-clock';
import { FakeSockets } from './fake-socket';

export const ACCOUNT_ID = 'wa-15105566777';
export const ME = { id: '15105566777:12@s.whatsapp.net', name: 'Ana Phone' };

/** Stores creds of a device WhatsApp has linked, as a completed link leaves them. */
export async function primeLinkedAuth(store: WorkspaceStore, accountId: string, me: { id: string; name?: string } = ME, now = Date.now()): Promise<void> {
  const auth = await loadAuthState({ repository: store.auth, accountId, now: () => now, logger: SILENT_LOGGER }, true);
  await auth!.saveCreds({ me });
}

/** A chat directory in memory with the store's rules: a chat keeps its name unless given a new one. */
export class MemoryDirectory implements DirectorySink {
  readonly chats = new Map<string, string | null>();
  readonly batches: ChatInput[][] = [];

  async upsert(chats: readonly ChatInput[]): Promise<void> {
    this.batches.push([...chats]);
    for (const chat of chats) this.chats.set(chat.jid, chat.name ?? this.chats.get(chat.jid) ?? null);
  }

  nameOf(jid: string): string | null | undefined {
    return this.chats.get(jid);
  }
}

export interface Harness {
  readonly store: SqliteStore;
  readonly clock: FakeClock;
  readonly sockets: FakeSockets;
  readonly directory: MemoryDirectory;
  readonly connection: BaileysConnection;
  readonly states: AccountState[];
  readonly statuses: StatusUpdate[];
  readonly errors: unknown[];
  /** The text the outbox would give for a message id (Baileys' getMessage). */
  readonly texts: Map<string, string>;
  /** A second connection on the same store, as after a restart. */
  restart(options?: BaileysConnectionOptions): Promise<BaileysConnection>;
  close(): Promise<void>;
}

export interface HarnessOptions extends BaileysConnectionOptions {
  /** Store linked creds first (default true). */
  readonly linked?: boolean;
  readonly mode?: ConnectionMode;
  readonly accountId?: string;
  readonly random?: () => number;
}

/** A connection on a real SQLite store, a fake clock and fake sockets; started and settled. */
export async function openHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { linked = true, mode, accountId = ACCOUNT_ID, random = () => 0.5, ...connectionOptions } = options;
  const dir = tempDir('wahook-baileys-');
  const store = new SqliteStore({ path: join(dir.path, 'store.sqlite') });
  const clock = new FakeClock();
  const sockets = new FakeSockets(() => clock.now());
  const directory = new MemoryDirectory();
  const states: AccountState[] = [];
  const statuses: StatusUpdate[] = [];
  const errors: unknown[] = [];
  const texts = new Map<string, string>();
  if (linked) await primeLinkedAuth(store, accountId, ME, clock.now());
  const opened: BaileysConnection[] = [];
  const open = async (settings: BaileysConnectionOptions, connectionMode?: ConnectionMode) => {
    const connection = new BaileysConnection(
      settings,
      {
        accountId,
        phone: null,
        auth: store.auth,
        directory,
        messageText: async (id) => texts.get(id),
        makeSocket: sockets.make,
        clock,
        random,
        onError: (error) => errors.push(error),
      },
      connectionMode,
    );
    opened.push(connection);
    connection.onStateChange((state) => states.push(state));
    connection.onStatus((update) => statuses.push(update));
    await connection.start();
    await settle();
    return connection;
  };
  const connection = await open(connectionOptions, mode);
  return {
    store,
    clock,
    sockets,
    directory,
    connection,
    states,
    statuses,
    errors,
    texts,
    restart: async (settings = connectionOptions) => {
      await connection.close();
      return open(settings);
    },
    close: async () => {
      for (const each of opened) await each.close();
      await store.close();
      dir.cleanup();
    },
  };
}
