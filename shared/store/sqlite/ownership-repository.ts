import type { OwnershipRepository } from '../types';

/**
 * Account ownership for the embedded store. A SQLite file serves one process (the engine that opened
 * it; a command-line link beside it opens the store without connecting accounts), so holds live in
 * memory: they still keep two workspaces of this process, or a stale owner id, from sending one queue.
 */
export class SqliteOwnershipRepository implements OwnershipRepository {
  private readonly holds = new Map<string, { readonly owner: string; readonly until: number }>();

  async acquire(accountId: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const hold = this.holds.get(accountId);
    if (hold && hold.owner !== owner && hold.until > now) return false;
    this.holds.set(accountId, { owner, until: now + ttlMs });
    return true;
  }

  async renew(accountId: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const hold = this.holds.get(accountId);
    if (!hold || hold.owner !== owner || hold.until <= now) return false;
    this.holds.set(accountId, { owner, until: now + ttlMs });
    return true;
  }

  async release(accountId: string, owner: string): Promise<void> {
    if (this.holds.get(accountId)?.owner === owner) this.holds.delete(accountId);
  }

  async ownerOf(accountId: string, now: number): Promise<string | undefined> {
    return this.holderAt(accountId, now);
  }

  /** The owner holding the account at `now` (synchronous: the outbox checks it on every claim). */
  holderAt(accountId: string, now: number): string | undefined {
    const hold = this.holds.get(accountId);
    return hold && hold.until > now ? hold.owner : undefined;
  }
}
