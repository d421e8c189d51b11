#!/usr/bin/env node
// First: on a Node.js too old for the package, say so and exit before anything needs node:sqlite.
import './require-supported-node';
import { parseArgs } from 'node:util';
import { retentionDaysSetting } from '../hosting/settings';
import { linkCommand } from './link';
import { serve } from './serve';
import { storeChoiceFromArgument } from './store-argument';
import { metricsTokenSetting } from '../hosting/settings';
import { CLOUD_API_FIELD_LABELS, cloudApiSetting } from '../hosting/cloud-api-settings';
import { blank } from '../hosting/setting-fields';

/** The scrape token of `serve`'s /metrics and /healthz, when --metrics-token is not given. */
const METRICS_TOKEN_ENV = 'WAHOOK_METRICS_TOKEN';

/** Where `serve` reads a Cloud API number's secrets: the environment, which ps does not show. */
const CLOUD_API_ENV = {
  cloudApiAccessToken: 'WAHOOK_CLOUD_API_ACCESS_TOKEN',
  cloudApiAppSecret: 'WAHOOK_CLOUD_API_APP_SECRET',
  cloudApiVerifyToken: 'WAHOOK_CLOUD_API_VERIFY_TOKEN',
} as const;

const USAGE = `Usage:
  wahook serve --store <file.sqlite | postgres://user@host:5432/db?schema=…> [--host 127.0.0.1] [--port 8080] [--dry-run <phone>]
               [--metrics-token <token>] [--retention-days 30] [--cloud-api-phone-number-id <id>]
      Serves the TimelinesAI-compatible webhook alone, on the embedded SQLite file or a PostgreSQL schema
      (which n8n, Node-RED and other serves may share; sslmode=require or verify-full encrypts), with
      GET /metrics (Prometheus) and GET /healthz beside it: with a scrape token (--metrics-token, or the
      WAHOOK_METRICS_TOKEN environment variable, which ps does not show) they need it as
      "Authorization: Bearer <token>"; without one they answer callers on this machine only. Messages that
      are done (sent, delivered, read, failed) and received messages are kept --retention-days (0: forever).
      --cloud-api-phone-number-id adds that WhatsApp Cloud API number as an account, with its access token,
      app secret and verify token from WAHOOK_CLOUD_API_ACCESS_TOKEN, WAHOOK_CLOUD_API_APP_SECRET and
      WAHOOK_CLOUD_API_VERIFY_TOKEN; Meta's webhook for it is served at /whatsapp/cloud-api.
  wahook link --store <file.sqlite | postgres://…> [--pairing-code <phone>]
      Links a WhatsApp phone to the store: prints a QR code to scan (or, with --pairing-code, a code to
      enter on that phone) and exits once the phone is linked.`;

/** The Cloud API number of `serve`: its id from the flag, its secrets from the environment; named as the user sets them. */
function cloudApiFromArguments(phoneNumberId: string | undefined, env: NodeJS.ProcessEnv): ReturnType<typeof cloudApiSetting> {
  if (phoneNumberId === undefined) return cloudApiSetting({});
  const parsed = cloudApiSetting({ cloudApiPhoneNumberId: phoneNumberId, ...Object.fromEntries(Object.entries(CLOUD_API_ENV).map(([field, name]) => [field, env[name]])) });
  if (parsed.ok) return parsed;
  const field = parsed.rejection.field as keyof typeof CLOUD_API_ENV | 'cloudApiPhoneNumberId';
  const missing = field !== 'cloudApiPhoneNumberId' && blank(env[CLOUD_API_ENV[field]]);
  const message = missing
    ? `${CLOUD_API_ENV[field as keyof typeof CLOUD_API_ENV]} is needed for the WhatsApp Cloud API number: set it to ${CLOUD_API_FIELD_LABELS[field]}, or leave out --cloud-api-phone-number-id.`
    : parsed.rejection.message.replace(/^Setting "(\w+)"/, (_, name: string) => (name === 'cloudApiPhoneNumberId' ? '--cloud-api-phone-number-id' : CLOUD_API_ENV[name as keyof typeof CLOUD_API_ENV] ?? name));
  return { ok: false, rejection: { ...parsed.rejection, message } };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') {
    const { values } = parseArgs({
      args: rest,
      options: {
        store: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8080' },
        'dry-run': { type: 'string' },
        'metrics-token': { type: 'string' },
        'retention-days': { type: 'string' },
        'cloud-api-phone-number-id': { type: 'string' },
      },
    });
    if (!values.store) return usage('--store is required.');
    const store = storeChoiceFromArgument(values.store);
    if (!store.ok) return usage(store.rejection.message);
    const metricsToken = metricsTokenSetting({ metricsToken: values['metrics-token'] ?? process.env[METRICS_TOKEN_ENV] });
    if (!metricsToken.ok) return usage(metricsToken.rejection.message.replace('Setting "metricsToken"', '--metrics-token'));
    const retention = retentionDaysSetting({ retentionDays: values['retention-days'] });
    if (!retention.ok) {
      return usage(`--retention-days must be 0 (keep everything) or a number of days from 1 to 3650; got ${JSON.stringify(values['retention-days'])}.`);
    }
    const cloudApi = cloudApiFromArguments(values['cloud-api-phone-number-id'], process.env);
    if (!cloudApi.ok) return usage(cloudApi.rejection.message);
    await serve(
      {
        store: store.value,
        ...(cloudApi.value === undefined ? {} : { cloudApi: cloudApi.value }),
        host: values.host,
        port: Number(values.port),
        ...(values['dry-run'] ? { dryRunPhone: values['dry-run'].replace(/\D/g, '') } : {}),
        ...(metricsToken.value === undefined ? {} : { metricsToken: metricsToken.value }),
        retentionDays: retention.value,
      },
      (line) => console.log(line),
    );
    return 0;
  }
  if (command === 'link') {
    const { values } = parseArgs({
      args: rest,
      options: {
        store: { type: 'string' },
        'pairing-code': { type: 'string' },
        // A local WhatsApp Web stand-in, for tests.
        'ws-url': { type: 'string' },
      },
    });
    if (!values.store) return usage('--store is required.');
    const store = storeChoiceFromArgument(values.store);
    if (!store.ok) return usage(store.rejection.message);
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    return linkCommand(
      {
        store: store.value,
        ...(values['pairing-code'] ? { pairingPhone: values['pairing-code'] } : {}),
        ...(values['ws-url'] ? { waWebSocketUrl: values['ws-url'] } : {}),
      },
      (text) => console.log(text),
      {},
      stop.signal,
    );
  }
  return usage(command ? `Unknown command "${command}".` : 'No command given.');
}

function usage(problem: string): number {
  console.error(`${problem}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
