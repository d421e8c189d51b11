import { fail, ok, reject, type Result } from '../rejection';

/** What an editor hands over: its fields by setting name, as strings or numbers. */
export type RawSettings = Readonly<Record<string, unknown>>;

/** An untouched editor field arrives empty or not at all; either means "use the default". */
export function blank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** A number from min to max, or the fallback when the field is blank. */
export function numberOr(raw: RawSettings, key: string, fallback: number, min: number, max: number): Result<number> {
  const read = optionalNumber(raw, key, min, max);
  return read.ok ? ok(read.value ?? fallback) : read;
}

/** A number from min to max, or undefined when the field is blank (the setting is off). */
export function optionalNumber(raw: RawSettings, key: string, min: number, max: number): Result<number | undefined> {
  const value = raw[key];
  if (blank(value)) return ok(undefined);
  const parsed = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    return fail(reject(400, `Setting "${key}" must be a number from ${min} to ${max}; got ${JSON.stringify(value)}.`, key));
  }
  return ok(parsed);
}

/** Trimmed text, or undefined when the field is blank. */
export function optionalText(raw: RawSettings, key: string): string | undefined {
  const value = raw[key];
  return blank(value) ? undefined : String(value).trim();
}

/** A checkbox: on only when ticked (true, or "true" from a form); anything else is off. */
export function flag(raw: RawSettings, key: string): boolean {
  return raw[key] === true || raw[key] === 'true';
}

/** A whole number from min to max (a port, a count), or the fallback when the field is blank. */
export function wholeNumberOr(raw: RawSettings, key: string, fallback: number, min: number, max: number): Result<number> {
  const read = numberOr(raw, key, fallback, min, max);
  if (read.ok && !Number.isInteger(read.value)) {
    return fail(reject(400, `Setting "${key}" must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw[key])}.`, key));
  }
  return read;
}
