import { normalizePhone } from '../contract/phone';
import type { QuotaPeriod } from '../model';
import { fail, ok, reject, type Result } from '../rejection';
import { blank, flag, numberOr, optionalNumber, optionalText, type RawSettings } from './setting-fields';
import { parseStoreChoice, storeKeyOf, type StoreChoice } from './store-choice';
import { cloudApiSetting } from './cloud-api-settings';
import type { CloudApiSettings } from '../transport/cloud-api/connection';

/**
 * A workspace's settings as people enter them in an editor (Node-RED's config node, n8n's credential):
 * seconds, minutes and plain numbers. Both engines parse them here, so both accept and refuse the same.
 */
export interface WorkspaceSettings {
  /** Where the rows live: the SQLite file at the engine's path (the default), or a PostgreSQL schema. */
  readonly store: StoreChoice;
  /** Names the store without its password (see storeKeyOf): one open workspace per key and process. */
  readonly storeKey: string;
  readonly quotaAllowance: number;
  readonly quotaPeriod: QuotaPeriod;
  readonly refundDelayMinutes: number;
  /**
   * How long final messages (sent, delivered, read, played, failed; with their history and files) and
   * received messages are kept; 0 keeps everything. A trigger stopped longer misses older received ones.
   */
  readonly retentionDays: number;
  readonly gapMinSeconds: number;
  readonly gapMaxSeconds: number;
  readonly capPerMinute?: number;
  readonly capPerHour?: number;
  readonly capPerDay?: number;
  /** Warm-up of a newly linked number (absent: off): the caps ramp up over `days` from `startPercent`. */
  readonly warmup?: { readonly days: number; readonly startPercent: number };
  /** Lets file_url point at private addresses (a file server on the same network). Off by default. */
  readonly allowPrivateFileUrls: boolean;
  /** Phones (digits) that get a dry-run account: messages are recorded, not sent. */
  readonly dryRunPhones: readonly string[];
  /** The webhook token a new store starts with (a fixed, documented token for examples); else random. */
  readonly initialToken?: string;
  /** The scrape token of /metrics and /healthz, for scrapers without editor access (see hosting/metrics-endpoints.ts). */
  readonly metricsToken?: string;
  /** A WhatsApp Cloud API number beside the linked phones (see cloud-api-settings.ts). */
  readonly cloudApi?: CloudApiSettings;
}

export const DEFAULT_SETTINGS = {
  quotaAllowance: 1000,
  quotaPeriod: 'daily',
  refundDelayMinutes: 0,
  retentionDays: 30,
  gapMinSeconds: 1.5,
  gapMaxSeconds: 2.5,
  allowPrivateFileUrls: false,
} as const;

/**
 * Reads raw editor values (strings or numbers; empty means default) into settings, or says what is wrong.
 * `storePath` is the SQLite file the engine keeps the store in unless the settings choose PostgreSQL, whose
 * schema is by default derived from `workspaceName`.
 * Settings are read in a fixed order (the store first) and the first wrong one is the one named, so a person fixing several
 * mistakes sees them one at a time, always in the same order.
 */
export function parseWorkspaceSettings(raw: RawSettings, storePath: string, workspaceName = 'default'): Result<WorkspaceSettings> {
  const store = parseStoreChoice(raw, { storePath, workspaceName });
  if (!store.ok) return store;
  const gap = gapRange(raw);
  if (!gap.ok) return gap;
  const capPerMinute = optionalNumber(raw, 'capPerMinute', 1, 100_000);
  if (!capPerMinute.ok) return capPerMinute;
  const capPerHour = optionalNumber(raw, 'capPerHour', 1, 1_000_000);
  if (!capPerHour.ok) return capPerHour;
  const capPerDay = optionalNumber(raw, 'capPerDay', 1, 10_000_000);
  if (!capPerDay.ok) return capPerDay;
  const warmup = warmupSetting(raw, [capPerMinute.value, capPerHour.value, capPerDay.value]);
  if (!warmup.ok) return warmup;
  const initialToken = initialTokenSetting(raw);
  if (!initialToken.ok) return initialToken;
  const quotaAllowance = numberOr(raw, 'quotaAllowance', DEFAULT_SETTINGS.quotaAllowance, 0, 100_000_000);
  if (!quotaAllowance.ok) return quotaAllowance;
  const quotaPeriod = quotaPeriodSetting(raw);
  if (!quotaPeriod.ok) return quotaPeriod;
  const refundDelayMinutes = numberOr(raw, 'refundDelayMinutes', DEFAULT_SETTINGS.refundDelayMinutes, 0, 60 * 24 * 31);
  if (!refundDelayMinutes.ok) return refundDelayMinutes;
  const retentionDays = retentionDaysSetting(raw);
  if (!retentionDays.ok) return retentionDays;
  const dryRunPhones = dryRunPhonesSetting(raw);
  if (!dryRunPhones.ok) return dryRunPhones;
  const metricsToken = metricsTokenSetting(raw);
  if (!metricsToken.ok) return metricsToken;
  const cloudApi = cloudApiSetting(raw);
  if (!cloudApi.ok) return cloudApi;
  return ok({
    store: store.value,
    storeKey: storeKeyOf(store.value),
    quotaAllowance: quotaAllowance.value,
    quotaPeriod: quotaPeriod.value,
    refundDelayMinutes: refundDelayMinutes.value,
    retentionDays: retentionDays.value,
    gapMinSeconds: gap.value.minSeconds,
    gapMaxSeconds: gap.value.maxSeconds,
    ...(capPerMinute.value === undefined ? {} : { capPerMinute: capPerMinute.value }),
    ...(capPerHour.value === undefined ? {} : { capPerHour: capPerHour.value }),
    ...(capPerDay.value === undefined ? {} : { capPerDay: capPerDay.value }),
    ...(warmup.value === undefined ? {} : { warmup: warmup.value }),
    allowPrivateFileUrls: flag(raw, 'allowPrivateFileUrls'),
    dryRunPhones: dryRunPhones.value,
    ...(initialToken.value === undefined ? {} : { initialToken: initialToken.value }),
    ...(metricsToken.value === undefined ? {} : { metricsToken: metricsToken.value }),
    ...(cloudApi.value === undefined ? {} : { cloudApi: cloudApi.value }),
  });
}

/** The pause between two sends, each end from 0 to 3600 seconds, the longest not below the shortest. */
function gapRange(raw: RawSettings): Result<{ readonly minSeconds: number; readonly maxSeconds: number }> {
  const min = numberOr(raw, 'gapMinSeconds', DEFAULT_SETTINGS.gapMinSeconds, 0, 3600);
  if (!min.ok) return min;
  const max = numberOr(raw, 'gapMaxSeconds', DEFAULT_SETTINGS.gapMaxSeconds, 0, 3600);
  if (!max.ok) return max;
  if (max.value < min.value) {
    return fail(reject(400, `Setting "gapMaxSeconds" (${max.value}) must not be below "gapMinSeconds" (${min.value}).`, 'gapMaxSeconds'));
  }
  return ok({ minSeconds: min.value, maxSeconds: max.value });
}

/** The start of a warm-up, when `warmupDays` leaves it blank. */
export const DEFAULT_WARMUP_START_PERCENT = 10;

/**
 * `warmupDays` (blank or 0: off) and `warmupStartPercent`: a warm-up scales the caps, so it needs one.
 * The start percent is read only when a warm-up is on.
 */
function warmupSetting(raw: RawSettings, caps: readonly (number | undefined)[]): Result<WorkspaceSettings['warmup']> {
  const days = optionalNumber(raw, 'warmupDays', 0, 365);
  if (!days.ok) return days;
  if (days.value === undefined || days.value === 0) return ok(undefined);
  const startPercent = numberOr(raw, 'warmupStartPercent', DEFAULT_WARMUP_START_PERCENT, 1, 100);
  if (!startPercent.ok) return startPercent;
  if (caps.every((cap) => cap === undefined)) {
    return fail(
      reject(400, 'Setting "warmupDays" ramps the caps up, but no cap is set: set "capPerMinute", "capPerHour" or "capPerDay" too, or set "warmupDays" to 0.', 'warmupDays'),
    );
  }
  return ok({ days: days.value, startPercent: startPercent.value });
}

/** 0 (keep everything) or 1 to 3650 days: under a day, the daily cap would miss sent messages it counts. */
export function retentionDaysSetting(raw: RawSettings): Result<number> {
  const days = numberOr(raw, 'retentionDays', DEFAULT_SETTINGS.retentionDays, 0, 3650);
  if (days.ok && (days.value === 0 || days.value >= 1)) return days;
  return fail(
    reject(400, `Setting "retentionDays" must be 0 (keep everything) or a number of days from 1 to 3650; got ${JSON.stringify(raw.retentionDays)}.`, 'retentionDays'),
  );
}

function initialTokenSetting(raw: RawSettings): Result<string | undefined> {
  const token = optionalText(raw, 'initialToken');
  if (token !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(token)) {
    return fail(reject(400, 'Setting "initialToken" must be 16 to 128 letters, digits, "-" or "_".', 'initialToken'));
  }
  return ok(token);
}

/** Visible ASCII, no spaces (it travels in an Authorization header), long enough not to be guessed. */
export function metricsTokenSetting(raw: RawSettings): Result<string | undefined> {
  const token = optionalText(raw, 'metricsToken');
  if (token !== undefined && !/^[\x21-\x7e]{16,256}$/.test(token)) {
    return fail(reject(400, 'Setting "metricsToken" must be 16 to 256 visible characters (letters, digits or punctuation, no spaces).', 'metricsToken'));
  }
  return ok(token);
}

function quotaPeriodSetting(raw: RawSettings): Result<QuotaPeriod> {
  const value = raw.quotaPeriod;
  if (blank(value)) return ok(DEFAULT_SETTINGS.quotaPeriod);
  if (value === 'none' || value === 'daily' || value === 'monthly') return ok(value);
  return fail(reject(400, `Setting "quotaPeriod" must be "none", "daily" or "monthly"; got ${JSON.stringify(value)}.`, 'quotaPeriod'));
}

/** A list, or text separated by commas, semicolons or new lines; the first entry that is no phone is named. */
function dryRunPhonesSetting(raw: RawSettings): Result<string[]> {
  const value = raw.dryRunPhones;
  if (blank(value)) return ok([]);
  const entries = Array.isArray(value) ? value.map(String) : String(value).split(/[,;\n]/);
  const phones: string[] = [];
  for (const entry of entries.map((each) => each.trim()).filter((each) => each !== '')) {
    const phone = normalizePhone(entry);
    if (!phone.ok) {
      return fail(reject(400, `Setting "dryRunPhones" has "${entry}", which is not a phone number in international format such as +14151231234.`, 'dryRunPhones'));
    }
    phones.push(phone.digits);
  }
  return ok(phones);
}
