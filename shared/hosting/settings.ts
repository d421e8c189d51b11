import { normalizePhone } from '../contract/phone';
import type { QuotaPeriod } from '../model';
import { fail, ok, reject, type Result } from '../rejection';

/**
 * A workspace's settings as people enter them in an editor (Node-RED's config node, n8n's credential):
 * seconds, minutes and plain numbers. Both engines parse them here, so both accept and refuse the same.
 */
export interface WorkspaceSettings {
  readonly storePath: string;
  readonly quotaAllowance: number;
  readonly quotaPeriod: QuotaPeriod;
  readonly refundDelayMinutes: number;
  readonly gapMinSeconds: number;
  readonly gapMaxSeconds: number;
  readonly capPerHour?: number;
  readonly capPerDay?: number;
  /** Lets file_url point at private addresses (a file server on the same network). Off by default. */
  readonly allowPrivateFileUrls: boolean;
  /** Phones (digits) that get a dry-run account: messages are recorded, not sent. */
  readonly dryRunPhones: readonly string[];
  /** The webhook token a new store starts with (a fixed, documented token for examples); else random. */
  readonly initialToken?: string;
}

export const DEFAULT_SETTINGS = {
  quotaAllowance: 1000,
  quotaPeriod: 'daily',
  refundDelayMinutes: 0,
  gapMinSeconds: 1.5,
  gapMaxSeconds: 2.5,
  allowPrivateFileUrls: false,
} as const;

type Raw = Readonly<Record<string, unknown>>;

/** Reads raw editor values (strings or numbers; empty means default) into settings, or says what is wrong. */
export function parseWorkspaceSettings(raw: Raw, storePath: string): Result<WorkspaceSettings> {
  try {
    const gapMinSeconds = number(raw, 'gapMinSeconds', DEFAULT_SETTINGS.gapMinSeconds, 0, 3600);
    const gapMaxSeconds = number(raw, 'gapMaxSeconds', DEFAULT_SETTINGS.gapMaxSeconds, 0, 3600);
    if (gapMaxSeconds < gapMinSeconds) {
      throw reject(400, `Setting "gapMaxSeconds" (${gapMaxSeconds}) must not be below "gapMinSeconds" (${gapMinSeconds}).`, 'gapMaxSeconds');
    }
    const capPerHour = optionalNumber(raw, 'capPerHour', 1, 1_000_000);
    const capPerDay = optionalNumber(raw, 'capPerDay', 1, 10_000_000);
    const initialToken = text(raw, 'initialToken');
    if (initialToken !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(initialToken)) {
      throw reject(400, 'Setting "initialToken" must be 16 to 128 letters, digits, "-" or "_".', 'initialToken');
    }
    return ok({
      storePath,
      quotaAllowance: number(raw, 'quotaAllowance', DEFAULT_SETTINGS.quotaAllowance, 0, 100_000_000),
      quotaPeriod: period(raw),
      refundDelayMinutes: number(raw, 'refundDelayMinutes', DEFAULT_SETTINGS.refundDelayMinutes, 0, 60 * 24 * 31),
      gapMinSeconds,
      gapMaxSeconds,
      ...(capPerHour === undefined ? {} : { capPerHour }),
      ...(capPerDay === undefined ? {} : { capPerDay }),
      allowPrivateFileUrls: raw.allowPrivateFileUrls === true || raw.allowPrivateFileUrls === 'true',
      dryRunPhones: dryRunPhones(raw),
      ...(initialToken === undefined ? {} : { initialToken }),
    });
  } catch (error) {
    if (isRejection(error)) return fail(error);
    throw error;
  }
}

function isRejection(value: unknown): value is ReturnType<typeof reject> {
  return typeof value === 'object' && value !== null && 'status' in value && 'message' in value;
}

function blank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function number(raw: Raw, key: string, fallback: number, min: number, max: number): number {
  return optionalNumber(raw, key, min, max) ?? fallback;
}

function optionalNumber(raw: Raw, key: string, min: number, max: number): number | undefined {
  const value = raw[key];
  if (blank(value)) return undefined;
  const parsed = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw reject(400, `Setting "${key}" must be a number from ${min} to ${max}; got ${JSON.stringify(value)}.`, key);
  }
  return parsed;
}

function text(raw: Raw, key: string): string | undefined {
  const value = raw[key];
  return blank(value) ? undefined : String(value).trim();
}

function period(raw: Raw): QuotaPeriod {
  const value = raw.quotaPeriod;
  if (blank(value)) return DEFAULT_SETTINGS.quotaPeriod;
  if (value === 'none' || value === 'daily' || value === 'monthly') return value;
  throw reject(400, `Setting "quotaPeriod" must be "none", "daily" or "monthly"; got ${JSON.stringify(value)}.`, 'quotaPeriod');
}

function dryRunPhones(raw: Raw): string[] {
  const value = raw.dryRunPhones;
  if (blank(value)) return [];
  const entries = Array.isArray(value) ? value.map(String) : String(value).split(/[,;\n]/);
  return entries
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const phone = normalizePhone(entry);
      if (!phone.ok) {
        throw reject(400, `Setting "dryRunPhones" has "${entry}", which is not a phone number in international format such as +14151231234.`, 'dryRunPhones');
      }
      return phone.digits;
    });
}
