import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One series as Prometheus stores it: its name (with _bucket, _sum or _count for a histogram's), labels and value. */
export interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  /** Each family's type and help, as the parser read them. */
  readonly families: ReadonlyMap<string, { readonly type: string; readonly help: string }>;
  readonly series: readonly Series[];
  /** The value of the one series with exactly these labels; undefined when there is none. */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
  /** Every series of a family's name (a histogram's _bucket, _sum, _count by their own names). */
  named(name: string): readonly Series[];
}

/**
 * Reads a scrape with parse-prometheus-text-format (which throws on any line that is not of the text format):
 * families, types and help, and every counter's and gauge's series with its labels. That parser folds a
 * labelled histogram's series into one and drops their labels, so a histogram's _bucket, _sum and _count
 * series are read here from their lines, which it has accepted.
 */
export function readScrape(text: string): Scrape {
  const parsed = parsePrometheusTextFormat(text);
  const families = new Map(parsed.map((family) => [family.name, { type: family.type, help: family.help }]));
  const series: Series[] = [];
  for (const family of parsed) {
    if (family.type === 'HISTOGRAM' || family.type === 'SUMMARY') continue;
    for (const sample of family.metrics) series.push({ name: family.name, labels: sample.labels ?? {}, value: Number(sample.value) });
  }
  const histograms = parsed.filter((family) => family.type === 'HISTOGRAM').map((family) => family.name);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || !histograms.some((name) => [`${name}_bucket`, `${name}_sum`, `${name}_count`].includes(match[1]!))) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1]!, pair[2]!]));
    series.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  const same = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([key, value]) => b[key] === value);
  return {
    families,
    series,
    value: (name, labels = {}) => {
      const found = series.filter((each) => each.name === name && same(each.labels, labels));
      if (found.length > 1) throw new Error(`${found.length} series ${name}${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
    named: (name) => series.filter((each) => each.name === name),
  };
}

/** How many metric families a workspace exposes (test/core/metrics.test.ts names each with its type). */
export const METRIC_FAMILY_COUNT = 15;
