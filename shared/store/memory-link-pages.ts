import type { LinkPageRecord, LinkPageRepository } from './types';

/** Link pages of a store one process uses (the SQLite file): in memory, as the linking sessions are. */
export class MemoryLinkPageRepository implements LinkPageRepository {
  private readonly pages = new Map<string, LinkPageRecord>();

  async put(key: string, expiresAt: number, state: string, forgetAt: number): Promise<void> {
    const page = this.pages.get(key);
    if (page?.retired) return;
    this.pages.set(key, { key, expiresAt, viewKey: page?.viewKey ?? null, state, retired: null, forgetAt });
  }

  async get(key: string): Promise<LinkPageRecord | undefined> {
    return this.pages.get(key);
  }

  async claimView(key: string, viewKey: string): Promise<boolean> {
    const page = this.pages.get(key);
    if (!page || page.retired || page.viewKey !== null) return false;
    this.pages.set(key, { ...page, viewKey });
    return true;
  }

  async retire(key: string, why: 'used' | 'expired', forgetAt: number): Promise<void> {
    const page = this.pages.get(key);
    if (page && !page.retired) this.pages.set(key, { ...page, retired: why, forgetAt });
  }

  async prune(now: number): Promise<void> {
    for (const [key, page] of this.pages) if (page.forgetAt <= now) this.pages.delete(key);
  }
}
