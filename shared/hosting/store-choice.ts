import type { PoolConfig } from 'pg';
import { fail, ok, reject, type Result } from '../rejection';
import { isPlainSchemaName, schemaNameFor } from '../store/postgres/schema-name';
import { blank, optionalText, wholeNumberOr, type RawSettings } from './setting-fields';

/** How the connection to PostgreSQL is encrypted: not at all, encrypted without checking the certificate, or verified. */
export type PostgresSsl = 'off' | 'require' | 'verify';

/** Where a workspace's rows live: the embedded SQLite file, or a schema of a PostgreSQL database. */
export type StoreChoice =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'postgres';
      readonly host: string;
      readonly port: number;
      readonly database: string;
      readonly user: string;
      /** Absent when the server trusts the user (no password set). Never put in a message. */
      readonly password?: string;
      readonly ssl: PostgresSsl;
      readonly schema: string;
    };

export const DEFAULT_PG_PORT = 5432;

/** What the settings alone cannot say: the SQLite file an engine would use, and the workspace's name. */
export interface StorePlace {
  readonly storePath: string;
  /** Names the default PostgreSQL schema (`wahook_<name>`, the PostgresStore's own rule). */
  readonly workspaceName: string;
}

/**
 * Reads the store fields (`storeKind`, then `pgHost`, `pgPort`, `pgDatabase`, `pgUser`, `pgPassword`,
 * `pgSsl`, `pgSchema`, in that order). With SQLite the PostgreSQL fields are ignored: the editors hide them.
 */
export function parseStoreChoice(raw: RawSettings, place: StorePlace): Result<StoreChoice> {
  const kind = raw.storeKind;
  if (blank(kind) || kind === 'sqlite') return ok({ kind: 'sqlite', path: place.storePath });
  if (kind !== 'postgres') return fail(reject(400, `Setting "storeKind" must be "sqlite" or "postgres"; got ${JSON.stringify(kind)}.`, 'storeKind'));
  const host = requiredWord(raw, 'pgHost', "the PostgreSQL server's host name or address");
  if (!host.ok) return host;
  const port = wholeNumberOr(raw, 'pgPort', DEFAULT_PG_PORT, 1, 65_535);
  if (!port.ok) return port;
  const database = requiredWord(raw, 'pgDatabase', 'the database that holds the workspace\'s schema');
  if (!database.ok) return database;
  const user = requiredWord(raw, 'pgUser', 'the user the store connects as');
  if (!user.ok) return user;
  const ssl = sslSetting(raw);
  if (!ssl.ok) return ssl;
  const schema = schemaSetting(raw, place.workspaceName);
  if (!schema.ok) return schema;
  // The password is taken as typed (spaces may be part of it) and never checked, so no sentence can echo it.
  const password = typeof raw.pgPassword === 'string' && raw.pgPassword !== '' ? raw.pgPassword : undefined;
  return ok({
    kind: 'postgres',
    host: host.value,
    port: port.value,
    database: database.value,
    user: user.value,
    ...(password === undefined ? {} : { password }),
    ssl: ssl.value,
    schema: schema.value,
  });
}

/** A required name without spaces (host, database, user): PostgreSQL allows more, but no one types them. */
function requiredWord(raw: RawSettings, key: string, what: string): Result<string> {
  const value = optionalText(raw, key);
  if (value === undefined) return fail(reject(400, `Setting "${key}" is required for a PostgreSQL store: ${what}.`, key));
  if (/[\s\u0000-\u001f]/.test(value) || value.length > 255) {
    return fail(reject(400, `Setting "${key}" must be one word of at most 255 characters, without spaces; got ${JSON.stringify(value)}.`, key));
  }
  return ok(value);
}

function sslSetting(raw: RawSettings): Result<PostgresSsl> {
  const value = raw.pgSsl;
  if (blank(value)) return ok('off');
  if (value === 'off' || value === 'require' || value === 'verify') return ok(value);
  return fail(reject(400, `Setting "pgSsl" must be "off", "require" or "verify"; got ${JSON.stringify(value)}.`, 'pgSsl'));
}

function schemaSetting(raw: RawSettings, workspaceName: string): Result<string> {
  const value = optionalText(raw, 'pgSchema');
  if (value === undefined) return ok(schemaNameFor({ workspace: workspaceName }).name);
  if (!isPlainSchemaName(value)) {
    return fail(
      reject(400, `Setting "pgSchema" must be lower-case letters, digits and underscores, at most 48, not starting with a digit; got ${JSON.stringify(value)}.`, 'pgSchema'),
    );
  }
  return ok(value);
}

/**
 * Whether several processes may use the store at once, each sending only for the accounts it holds
 * (PostgreSQL); a SQLite file belongs to one process.
 */
export function sharedAcrossProcesses(choice: StoreChoice): boolean {
  return choice.kind === 'postgres';
}

/**
 * Names the store without its password: the SQLite file, or `postgres://user@host:port/database?schema=…`.
 * Workspaces that name the same store are one workspace per process, so this is also the registry's key.
 */
export function storeKeyOf(choice: StoreChoice): string {
  if (choice.kind === 'sqlite') return choice.path;
  const host = choice.host.includes(':') ? `[${choice.host}]` : choice.host;
  return `postgres://${encodeURIComponent(choice.user)}@${host}:${choice.port}/${encodeURIComponent(choice.database)}?schema=${choice.schema}`;
}

/** node-postgres' connection config for the choice; `ssl` as pg reads it (`true` verifies the certificate). */
export function pgConnectionFor(choice: Extract<StoreChoice, { kind: 'postgres' }>): PoolConfig {
  const ssl = { off: false, require: { rejectUnauthorized: false }, verify: true }[choice.ssl];
  return {
    host: choice.host,
    port: choice.port,
    database: choice.database,
    user: choice.user,
    ...(choice.password === undefined ? {} : { password: choice.password }),
    ssl,
  };
}
