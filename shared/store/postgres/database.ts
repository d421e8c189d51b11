import { Pool, types as pgTypes, type PoolClient, type PoolConfig, type CustomTypesConfig } from 'pg';
import { migrate } from './migrate';
import { LOCK_PURPOSE, schemaLockKey, schemaNameFor, type SchemaName } from './schema-name';

export interface PostgresOptions {
  /** A connection string (`postgres://user@host:5432/db`) or node-postgres' connection config. */
  readonly connection: string | PoolConfig;
  /** The schema holding this workspace's tables (created if missing); by default derived from `workspace`. */
  readonly schema?: string;
  /** The workspace's name, from which the default schema is derived (`wahook_<name>`; "default" when absent). */
  readonly workspace?: string;
  /** Connections the pool may open (default 10). */
  readonly poolSize?: number;
  /** Told when an idle connection fails (the server restarted or went away); operations reject on their own. */
  readonly onPoolError?: (error: Error) => void;
}

const DEFAULT_POOL_SIZE = 10;
/** A server that does not answer fails an operation after this long rather than holding it forever. */
/**
 * A new connection, and every query, gives up after this long: the webhook must answer 503 within 5 s
 * when the server is out of reach, and a connection whose network died would otherwise wait for TCP
 * keepalive (hours by default).
 */
const DEFAULT_CONNECT_TIMEOUT_MS = 3_500;
const DEFAULT_QUERY_TIMEOUT_MS = 3_500;
const INT8_OID = 20;

/**
 * bigint columns (timestamps in ms, seqs, counts) as JS numbers: every value this store keeps is far below
 * 2^53. Set on this pool alone, so other users of `pg` in the process keep their own parsing.
 */
const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? Number : pgTypes.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** What runs SQL: the pool (each statement on its own) or one transaction. Values are always bound. */
export interface Queryable {
  rows<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** Runs a statement; resolves to the number of rows it touched. */
  run(text: string, values?: readonly unknown[]): Promise<number>;
}

/** One connection inside BEGIN … COMMIT. */
export class Transaction implements Queryable {
  constructor(private readonly client: PoolClient) {}

  async rows<R>(text: string, values?: readonly unknown[]): Promise<R[]> {
    return (await this.client.query(text, values as unknown[] | undefined)).rows as R[];
  }

  async run(text: string, values?: readonly unknown[]): Promise<number> {
    return (await this.client.query(text, values as unknown[] | undefined)).rowCount ?? 0;
  }
}

/**
 * The pool of one store and the schema it lives in. The first operation creates or migrates the schema;
 * if that fails (the server is down) the operation rejects and the next one tries again.
 */
export class PgDatabase implements Queryable {
  readonly schema: SchemaName;
  /** How to connect, for a connection of its own outside the pool (a LISTEN). */
  readonly clientConfig: PoolConfig;
  private readonly pool: Pool;
  private readonly lockKey: number;
  private opening: Promise<void> | undefined;
  private closed = false;

  constructor(options: PostgresOptions) {
    this.schema = schemaNameFor(options);
    this.lockKey = schemaLockKey(this.schema);
    const config: PoolConfig = typeof options.connection === 'string' ? { connectionString: options.connection } : options.connection;
    this.clientConfig = {
      application_name: 'wahook',
      connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS,
      query_timeout: DEFAULT_QUERY_TIMEOUT_MS,
      keepAlive: true,
      ...config,
      types: TYPES,
    };
    this.pool = new Pool({ ...this.clientConfig, max: options.poolSize ?? config.max ?? DEFAULT_POOL_SIZE });
    // An idle connection the server dropped: without a listener the pool's 'error' event would crash the
    // process. The pool has already discarded that connection; the next operation opens a new one.
    this.pool.on('error', (error) => options.onPoolError?.(error));
  }

  /** Creates and migrates the schema once; a failed attempt is retried by the next caller. */
  ready(): Promise<void> {
    this.opening ??= this.transactionNow((tx) => migrate(tx, this.schema, () => this.lock(tx, 'migrate'))).catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  async rows<R>(text: string, values?: readonly unknown[]): Promise<R[]> {
    await this.ready();
    return (await this.pool.query(text, values as unknown[] | undefined)).rows as R[];
  }

  async run(text: string, values?: readonly unknown[]): Promise<number> {
    await this.ready();
    return (await this.pool.query(text, values as unknown[] | undefined)).rowCount ?? 0;
  }

  /** Runs `work` between BEGIN and COMMIT on one connection; any error rolls it all back. */
  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    await this.ready();
    return this.transactionNow(work);
  }

  /**
   * Takes the schema's advisory lock for `purpose` until the transaction ends: processes that take the
   * same lock run one after another, so a ledger read stays true until the commit.
   */
  async lock(tx: Transaction, purpose: keyof typeof LOCK_PURPOSE): Promise<void> {
    await tx.run('SELECT pg_advisory_xact_lock($1::int, $2::int)', this.lockKeys(purpose));
  }

  /** The two keys of the schema's advisory lock for `purpose`, for a statement that takes it itself. */
  lockKeys(purpose: keyof typeof LOCK_PURPOSE): [number, number] {
    return [this.lockKey, LOCK_PURPOSE[purpose]];
  }

  private async transactionNow<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out connection has no pool listener: the server dropping it mid-transaction must reject
    // the query in flight, not crash the process.
    const onError = (): void => undefined;
    client.on('error', onError);
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await work(new Transaction(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isServerError(error)) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError;
        });
      } else {
        // The connection itself failed (timed out, cut): a ROLLBACK would wait as long again. The server
        // rolls back an open transaction when it loses the connection, which is destroyed below.
        broken = error;
      }
      throw error;
    } finally {
      client.removeListener('error', onError);
      // A connection that could not even roll back is destroyed rather than handed to the next caller.
      client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** An error the server sent (node-postgres' DatabaseError has a severity), not one of the connection. */
function isServerError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'severity' in error;
}
