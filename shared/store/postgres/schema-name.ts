import { createHash } from 'node:crypto';

/**
 * Names a schema may have: lower-case letters, digits and underscores, short enough that the change
 * feed's NOTIFY channel (`<schema>_changes`) stays under PostgreSQL's 63-byte identifier limit.
 */
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;
const PREFIX = 'wahook_';
/** A workspace name used as it is when it is already a plain name of at most this length. */
const PLAIN_NAME_LENGTH = 40;

/** A validated schema name and its quoted form for SQL text (identifiers cannot be bound as parameters). */
export interface SchemaName {
  readonly name: string;
  /** `"name"`, safe to put in SQL text. */
  readonly sql: string;
}

/**
 * The schema a store uses: the one named, validated, or one derived from the workspace's name
 * (`wahook_<name>`; a name that is not plain gets a hash suffix, so two names never share a schema).
 */
export function schemaNameFor(options: { readonly schema?: string; readonly workspace?: string }): SchemaName {
  const name = options.schema ?? derivedSchema(options.workspace ?? 'default');
  if (!isPlainSchemaName(name)) {
    throw new Error(
      `The PostgreSQL schema "${name}" is not a plain name: use lower-case letters, digits and underscores, at most 48, not starting with a digit.`,
    );
  }
  return { name, sql: quoteIdentifier(name) };
}

/** Whether a store accepts `name` as its schema (settings check it before any store is made). */
export function isPlainSchemaName(name: string): boolean {
  return SCHEMA_PATTERN.test(name);
}

function derivedSchema(workspace: string): string {
  if (/^[a-z0-9_]+$/.test(workspace) && workspace.length <= PLAIN_NAME_LENGTH) return `${PREFIX}${workspace}`;
  const slug = workspace.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 30);
  const hash = createHash('sha256').update(workspace).digest('hex').slice(0, 8);
  return slug === '' ? `${PREFIX}${hash}` : `${PREFIX}${slug}_${hash}`;
}

/** Double-quotes an identifier, doubling any quote inside it (names are validated first anyway). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** What each advisory lock of a schema serialises (the second key of `pg_advisory_xact_lock(int, int)`). */
export const LOCK_PURPOSE = {
  /** Creating the schema and running migrations: once, whoever opens first. */
  migrate: 1,
  /** The quota ledger and the outbox's seq order: accept and refunds, across processes. */
  ledger: 2,
  /** The change feed's seq order. */
  changes: 3,
  /** The received messages' seq order. */
  inbound: 4,
} as const;

/** The first advisory lock key of a schema: locks of two workspaces in one database never meet. */
export function schemaLockKey(schema: SchemaName): number {
  return createHash('sha256').update(`wahook:${schema.name}`).digest().readInt32BE(0);
}
