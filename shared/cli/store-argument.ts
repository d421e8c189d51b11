import { fail, ok, reject, type Result } from '../rejection';
import { parseStoreChoice, type PostgresSsl, type StoreChoice } from '../hosting/store-choice';

/** libpq's sslmode values, read as the three the settings know. */
const SSL_MODES: Readonly<Record<string, PostgresSsl>> = {
  disable: 'off',
  allow: 'off',
  prefer: 'off',
  require: 'require',
  'verify-ca': 'verify',
  'verify-full': 'verify',
};

const EXAMPLE = 'postgres://user:password@host:5432/database?schema=wahook_default';

/**
 * `--store`: a `postgres://` (or `postgresql://`) URL picks PostgreSQL, anything else is the SQLite file's
 * path. The URL is read into the same settings the editors fill (host, port, database, user, password,
 * `sslmode` or `ssl`, `schema`), so it is checked by the same rules; no sentence repeats the URL, which may
 * hold a password.
 */
export function storeChoiceFromArgument(argument: string): Result<StoreChoice> {
  if (!/^postgres(ql)?:\/\//i.test(argument)) return ok({ kind: 'sqlite', path: argument });
  let url: URL;
  try {
    url = new URL(argument);
  } catch {
    return fail(reject(400, `--store is not a PostgreSQL URL such as ${EXAMPLE}.`, 'store'));
  }
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== null && SSL_MODES[sslmode] === undefined) {
    return fail(reject(400, `--store has sslmode=${JSON.stringify(sslmode)}; use disable, require, verify-ca or verify-full.`, 'store'));
  }
  const ssl = sslmode === null ? url.searchParams.get('ssl') ?? '' : SSL_MODES[sslmode];
  const parsed = parseStoreChoice(
    {
      storeKind: 'postgres',
      pgHost: decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1'),
      pgPort: url.port,
      pgDatabase: decodeURIComponent(url.pathname.replace(/^\//, '')),
      pgUser: decodeURIComponent(url.username),
      pgPassword: decodeURIComponent(url.password),
      pgSsl: ssl,
      pgSchema: url.searchParams.get('schema') ?? '',
    },
    { storePath: '', workspaceName: 'default' },
  );
  if (!parsed.ok) return fail(reject(400, `In --store, ${urlPartFor(parsed.rejection.message)}`, 'store'));
  return parsed;
}

/** The settings' sentence with the URL's words in place of the editors' field names. */
function urlPartFor(message: string): string {
  const names: Readonly<Record<string, string>> = {
    pgHost: 'the host',
    pgPort: 'the port',
    pgDatabase: 'the database (the path)',
    pgUser: 'the user',
    pgSsl: 'ssl',
    pgSchema: 'the schema',
  };
  return message.replace(/^Setting "(pg\w+)"/, (_, key: string) => names[key] ?? key);
}
