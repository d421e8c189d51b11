import type { PhoneLookup } from '../types';

export interface PhoneCacheOptions {
  /** How long "this number is on WhatsApp as <jid>" is trusted. */
  readonly foundTtlMs: number;
  /** How long "not on WhatsApp" is trusted (shorter: people join). */
  readonly missingTtlMs: number;
  /** Oldest entries are dropped beyond this many. */
  readonly maxEntries: number;
}

export const DEFAULT_PHONE_CACHE: PhoneCacheOptions = {
  foundTtlMs: 7 * 24 * 3_600_000,
  missingTtlMs: 6 * 3_600_000,
  maxEntries: 10_000,
};

interface Entry {
  readonly lookup: PhoneLookup;
  readonly expiresAt: number;
}

/**
 * Number lookups (`onWhatsApp`) with a time to live. Each lookup is a request WhatsApp counts, and bulk
 * checks invite rate limits and bans, so a number is asked about once per TTL and concurrent sends to
 * the same number share one question.
 */
export class PhoneCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<PhoneLookup>>();

  constructor(
    private readonly options: PhoneCacheOptions,
    private readonly now: () => number,
  ) {}

  get(digits: string): PhoneLookup | undefined {
    const entry = this.entries.get(digits);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(digits);
      return undefined;
    }
    return entry.lookup;
  }

  set(digits: string, lookup: PhoneLookup): void {
    const ttl = lookup.onWhatsApp ? this.options.foundTtlMs : this.options.missingTtlMs;
    this.entries.delete(digits);
    this.entries.set(digits, { lookup, expiresAt: this.now() + ttl });
    while (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The cached answer, else `ask` (once for concurrent callers); failures are not cached. */
  async resolve(digits: string, ask: (digits: string) => Promise<PhoneLookup>): Promise<PhoneLookup> {
    const cached = this.get(digits);
    if (cached) return cached;
    let question = this.pending.get(digits);
    if (!question) {
      question = ask(digits).then((lookup) => {
        this.set(digits, lookup);
        return lookup;
      });
      const settled = () => this.pending.delete(digits);
      question.then(settled, settled);
      this.pending.set(digits, question);
    }
    return question;
  }

  get size(): number {
    return this.entries.size;
  }
}
