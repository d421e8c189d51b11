import type { AuthKeyWrite, AuthStateRepository } from '../../store/types';
import {
  loadBaileys,
  type AuthenticationCreds,
  type AuthenticationState,
  type BaileysModule,
  type CacheStore,
  type ILogger,
  type LIDMapping,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
} from './baileys-module';

/**
 * A linked account's Baileys auth state kept in the workspace store rather than in Baileys'
 * multi-file helper (documented as not for production): a restart reconnects without linking again,
 * and unlinking erases it with the account.
 */
export interface StoredAuth {
  readonly state: AuthenticationState;
  /** Applies a `creds.update` and writes the whole creds, as Baileys expects on every update. */
  saveCreds(update: Partial<AuthenticationCreds>): Promise<void>;
}

export interface AuthStateDeps {
  readonly repository: AuthStateRepository;
  readonly accountId: string;
  readonly now: () => number;
  readonly logger: ILogger;
  readonly baileys?: BaileysModule;
}

/** Loads the stored auth state; `undefined` when none is stored and `create` is false. */
export async function loadAuthState(deps: AuthStateDeps, create: boolean): Promise<StoredAuth | undefined> {
  const baileys = deps.baileys ?? loadBaileys();
  const { repository, accountId } = deps;
  const stored = await repository.readCreds(accountId);
  if (stored === undefined && !create) return undefined;
  const creds: AuthenticationCreds = stored === undefined ? baileys.initAuthCreds() : parse(baileys, stored);
  const keys = baileys.makeCacheableSignalKeyStore(keyStore(baileys, repository, accountId), deps.logger, new KeyCache());
  const saveCreds = async (update: Partial<AuthenticationCreds>): Promise<void> => {
    // Baileys applies the update to this same object first; applying it again is harmless and keeps
    // the write right whatever order the listeners run in.
    Object.assign(creds, update);
    await repository.writeCreds(accountId, serialize(baileys, creds), deps.now());
  };
  if (stored === undefined) await saveCreds({});
  return { state: { creds, keys }, saveCreds };
}

/** Baileys' own test: with `me` it logs in, without it registers (shows a QR). */
export function isLinked(creds: AuthenticationCreds): boolean {
  return typeof creds.me?.id === 'string' && creds.me.id.length > 0;
}

/**
 * The LID ↔ phone pairs Baileys stored as `lid-mapping` keys (`<lid user>_reverse` → phone user), to seed
 * the directory's map at connect.
 */
export async function readLidMappings(repository: AuthStateRepository, accountId: string): Promise<LIDMapping[]> {
  const mappings: LIDMapping[] = [];
  for (const [id, json] of await repository.listKeys(accountId, 'lid-mapping')) {
    if (!id.endsWith(REVERSE)) continue;
    const phoneUser: unknown = JSON.parse(json);
    if (typeof phoneUser === 'string') mappings.push({ lid: `${id.slice(0, -REVERSE.length)}@lid`, pn: `${phoneUser}@s.whatsapp.net` });
  }
  return mappings;
}

const REVERSE = '_reverse';

function keyStore(baileys: BaileysModule, repository: AuthStateRepository, accountId: string): SignalKeyStore {
  return {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const found = await repository.readKeys(accountId, type, ids);
      const values: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const [id, json] of found) {
        let value: unknown = parse(baileys, json);
        // Stored as plain JSON; Baileys needs the protobuf object back.
        if (type === 'app-state-sync-key') value = baileys.proto.Message.AppStateSyncKeyData.fromObject(value as object);
        values[id] = value as SignalDataTypeMap[T];
      }
      return values;
    },
    async set(data: SignalDataSet) {
      const writes: AuthKeyWrite[] = [];
      for (const [type, entries] of Object.entries(data)) {
        for (const [id, value] of Object.entries(entries ?? {})) {
          writes.push({ type, id, value: value == null ? null : serialize(baileys, value) });
        }
      }
      await repository.writeKeys(accountId, writes);
    },
    async clear() {
      await repository.clear(accountId);
    },
  };
}

/**
 * The cache in front of the stored keys. Baileys' default (a NodeCache) starts intervals that nothing
 * ever stops; this one has no timer and keeps the most recently used keys, up to a bound.
 */
export class KeyCache implements CacheStore {
  private readonly entries = new Map<string, unknown>();

  constructor(private readonly maxEntries = 20_000) {}

  get<T>(key: string): T | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, value);
    return value as T;
  }

  set<T>(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  del(key: string): void {
    this.entries.delete(key);
  }

  flushAll(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

function serialize(baileys: BaileysModule, value: unknown): string {
  return JSON.stringify(value, baileys.BufferJSON.replacer);
}

function parse<T>(baileys: BaileysModule, json: string): T {
  return JSON.parse(json, baileys.BufferJSON.reviver) as T;
}
