import type { OwnershipRepository } from '../store/types';
import { withTimeout } from '../time/clock';

/** A store call of the keeper that has not answered by then counts as failed, so a tick always ends. */
const CALL_TIMEOUT_MS = 5_000;

/**
 * How long a hold lasts without renewal, and how often it is renewed (three chances before it runs out).
 * Short, so that another process takes a dead owner's accounts within eight seconds (a hold renewed just
 * before the owner died runs out after six; the next try comes within two).
 */
export const OWNERSHIP_TTL_MS = 6_000;
export const OWNERSHIP_RENEW_MS = 2_000;
/**
 * A hold not renewed by this long before it runs out is given up at once, whatever a renewal in flight
 * may still say: the connection must be closed before another process may take the account.
 */
export const OWNERSHIP_SAFETY_MS = 1_500;

export interface OwnershipKeeperDeps {
  readonly ownership: OwnershipRepository;
  readonly owner: string;
  readonly now: () => number;
  /** The hold on the account was lost (the store said no, or could not be reached before it ran out). */
  readonly lost: (accountId: string) => void;
  /** An account this workspace waited for (held elsewhere) is now held here. */
  readonly gained: (accountId: string) => void;
  readonly reportError: (error: unknown) => void;
}

/**
 * Keeps this workspace's holds on its accounts: takes one before an account's connection opens,
 * renews every hold on a timer, and says when one is lost so that account stops sending and closes
 * its connection before another process may open one.
 */
export class OwnershipKeeper {
  private readonly held = new Map<string, number>();
  /** Per hold: gives it up OWNERSHIP_SAFETY_MS before it runs out unless a renewal moved it on. */
  private readonly deadlines = new Map<string, NodeJS.Timeout>();
  private ticking = false;
  /** Accounts held elsewhere that this workspace takes when their holder lets go or stops renewing. */
  private readonly wanted = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: OwnershipKeeperDeps) {
    this.timer = setInterval(() => void this.tick(), OWNERSHIP_RENEW_MS);
    // Renewing alone never keeps a process alive: whoever hosts the workspace does.
    this.timer.unref();
  }

  get owner(): string {
    return this.deps.owner;
  }

  async acquire(accountId: string): Promise<boolean> {
    const now = this.deps.now();
    if (!(await withTimeout(this.deps.ownership.acquire(accountId, this.deps.owner, now, OWNERSHIP_TTL_MS), CALL_TIMEOUT_MS, 'the store (taking an account)'))) return false;
    this.hold(accountId, now + OWNERSHIP_TTL_MS);
    return true;
  }

  private hold(accountId: string, until: number): void {
    this.held.set(accountId, until);
    clearTimeout(this.deadlines.get(accountId));
    const deadline = setTimeout(() => this.giveUp(accountId), Math.max(0, until - this.deps.now() - OWNERSHIP_SAFETY_MS));
    deadline.unref();
    this.deadlines.set(accountId, deadline);
  }

  private unhold(accountId: string): boolean {
    clearTimeout(this.deadlines.get(accountId));
    this.deadlines.delete(accountId);
    return this.held.delete(accountId);
  }

  /** The hold could not be renewed in time (a store that hangs or is gone): stop before it runs out. */
  private giveUp(accountId: string): void {
    if (this.unhold(accountId)) this.deps.lost(accountId);
  }

  /** Tries to take the account on every renewal until it is held here (see `gained`) or no longer wanted. */
  want(accountId: string): void {
    this.wanted.add(accountId);
  }

  holds(accountId: string): boolean {
    return this.held.has(accountId);
  }

  /**
   * Held, with more than the safety margin left by this process's clock: checked right before each send,
   * because after a stall the deadline that gives a hold up may not have run yet.
   */
  holdsSafely(accountId: string): boolean {
    const until = this.held.get(accountId);
    return until !== undefined && until - this.deps.now() > OWNERSHIP_SAFETY_MS;
  }

  async release(accountId: string): Promise<void> {
    this.wanted.delete(accountId);
    if (!this.unhold(accountId)) return;
    await this.deps.ownership.release(accountId, this.deps.owner);
  }

  /** Renews every hold, then tries the accounts it waits for. */
  async tick(): Promise<void> {
    // A tick still waiting on a slow store is not joined by another: its deadlines stand meanwhile.
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.renewAll();
      await this.takeWanted();
    } finally {
      this.ticking = false;
    }
  }

  private async takeWanted(): Promise<void> {
    for (const accountId of [...this.wanted]) {
      const acquired = await this.acquire(accountId).catch((error: unknown) => {
        this.deps.reportError(error);
        return false;
      });
      if (acquired && this.wanted.delete(accountId)) this.deps.gained(accountId);
    }
  }

  /** Renews every hold; one that the store refuses, or that runs out while the store fails, is lost. */
  async renewAll(): Promise<void> {
    for (const [accountId, until] of [...this.held]) {
      const now = this.deps.now();
      let renewed: boolean;
      try {
        renewed = await withTimeout(this.deps.ownership.renew(accountId, this.deps.owner, now, OWNERSHIP_TTL_MS), CALL_TIMEOUT_MS, 'the store (renewing a hold)');
      } catch (error) {
        this.deps.reportError(error);
        // Unreachable store: keep sending only while the hold surely lasts (one renewal period of margin).
        renewed = false;
        if (until - now > OWNERSHIP_RENEW_MS) continue;
      }
      if (!this.held.has(accountId)) continue;
      if (renewed) this.hold(accountId, now + OWNERSHIP_TTL_MS);
      else this.giveUp(accountId);
    }
  }

  /** Stops renewing and lets every account go. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.wanted.clear();
    const accounts = [...this.held.keys()];
    for (const accountId of accounts) this.unhold(accountId);
    await Promise.all(accounts.map((accountId) => this.deps.ownership.release(accountId, this.deps.owner).catch(this.deps.reportError)));
  }
}
