import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { linkPageHtml, messagePageHtml } from './link-page-html';
import type { Account } from '../model';
import type { QrCode } from '../transport/linking';
import { MemoryLinkPageRepository } from '../store/memory-link-pages';
import type { LinkPageRepository } from '../store/types';

/**
 * One-time link pages: a linking session's live QR (or pairing code), then who was linked or why it
 * failed, shown at an unguessable address an engine serves on its own route. The link opens once: the
 * first page load gets a view key that the page's polls must carry, so a link copied from an execution
 * log after the owner opened it shows nothing. It expires with its linking session. Engine-agnostic:
 * the engine passes the path's token and the `view` query and writes the answer as given.
 */

/** The placeholder for the link's token in an engine's link-page URL template. */
export const LINK_TOKEN_PLACEHOLDER = ':linkToken';

/** 32 random bytes, base64url: 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** How long a used or expired link is remembered, to answer it with the right sentence. */
const REMEMBER_MS = 60 * 60_000;

export const LINK_PAGE_SENTENCES = {
  malformed: "This address is not a WhatsApp link page: copy the whole link_url from the Link Account step's output.",
  unknown: "No linking session has this link: run the WhatsApp node's Link Account operation for a new one.",
  expired: "This link expired with its linking session: run the WhatsApp node's Link Account operation again for a new one.",
  used: "This link was already opened (each link opens once): run the WhatsApp node's Link Account operation again for a new one.",
} as const;

export type LinkPageRefusal = keyof typeof LINK_PAGE_SENTENCES;

/** What the page's poll reads (JSON). */
export type LinkPageState =
  | { readonly status: 'waiting'; readonly qr: string | null; readonly pairing_code: string | null; readonly expires_at: string }
  | { readonly status: 'linked'; readonly phone: string | null; readonly name: string | null }
  | { readonly status: 'failed'; readonly message: string };

/** An HTTP answer, ready to write. */
export interface LinkPageAnswer {
  readonly status: 200 | 404;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** One linking session as its page shows it. */
export class LinkPageSession {
  private readonly events = new EventEmitter();
  private qrCode: QrCode | undefined;
  private code: string | undefined;
  private outcome: { readonly linked: Account } | { readonly failed: string } | undefined;

  constructor(
    /** The link's token: its URL's last segment. */
    readonly token: string,
    readonly expiresAt: number,
    /** Hears every change of what the page shows (LinkPages writes it to the store). */
    private readonly changed: (session: LinkPageSession) => void = () => undefined,
  ) {}

  /**
   * A QR to show, in place of the one before: the linking connection's QRs come in here as WhatsApp
   * rotates them (test hooks call it to stand in for WhatsApp, which is not reachable in tests).
   */
  show(qr: QrCode): void {
    this.qrCode = qr;
    this.changed(this);
    this.events.emit('qr', qr);
  }

  showPairingCode(code: string): void {
    this.code = code;
    this.changed(this);
    this.events.emit('pairing-code', code);
  }

  /** Late listeners get the latest QR at once. */
  onQr(listener: (qr: QrCode) => void): () => void {
    if (this.qrCode) listener(this.qrCode);
    this.events.on('qr', listener);
    return () => this.events.off('qr', listener);
  }

  onPairingCode(listener: (code: string) => void): () => void {
    if (this.code) listener(this.code);
    this.events.on('pairing-code', listener);
    return () => this.events.off('pairing-code', listener);
  }

  linked(account: Account): void {
    if (this.outcome) return;
    this.outcome = { linked: account };
    this.changed(this);
  }

  failed(reason: string): void {
    if (this.outcome) return;
    this.outcome = { failed: reason };
    this.changed(this);
  }

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  state(): LinkPageState {
    if (this.outcome && 'linked' in this.outcome) {
      const { phone, name } = this.outcome.linked;
      return { status: 'linked', phone: phone === null ? null : `+${phone}`, name };
    }
    if (this.outcome) return { status: 'failed', message: this.outcome.failed };
    return { status: 'waiting', qr: this.qrCode?.dataUrl ?? null, pairing_code: this.code ?? null, expires_at: new Date(this.expiresAt).toISOString() };
  }
}

/**
 * A workspace's link pages. The sessions this process runs are kept here (their QRs arrive here); what
 * each page shows, whether it was opened and whether it is over live in the store's LinkPageRepository,
 * by the SHA-256 of the token (no secret is compared byte by byte). So with a store several processes
 * share, any of them serves a page whose linking session runs in another (in n8n queue mode a worker
 * links and a webhook process serves the page), and a link still opens once.
 */
export class LinkPages {
  private readonly local = new Map<string, LinkPageSession>();
  /** This process's writes, in order; a page is served only after them. */
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly randomBytes: (size: number) => Buffer = cryptoRandomBytes,
    private readonly pages: LinkPageRepository = new MemoryLinkPageRepository(),
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Opens a page for a linking session that ends at `expiresAt`. */
  start(expiresAt: number): LinkPageSession {
    this.pruneLocal();
    const session = new LinkPageSession(this.randomBytes(32).toString('base64url'), expiresAt, (changed) => this.save(changed));
    this.local.set(digest(session.token), session);
    const now = this.now();
    this.write(() => this.pages.prune(now));
    this.save(session);
    return session;
  }

  /** The newest session of this process still open: what a test hook publishes a QR into. */
  newest(): LinkPageSession | undefined {
    this.pruneLocal();
    return [...this.local.values()].at(-1);
  }

  /** The linking session ended before its time (cancelled): its link answers "expired" from now on. */
  end(session: LinkPageSession): void {
    const key = digest(session.token);
    if (this.local.get(key) !== session) return;
    this.local.delete(key);
    const forgetAt = this.now() + REMEMBER_MS;
    this.write(() => this.pages.retire(key, 'expired', forgetAt));
  }

  /**
   * A GET of the link page. Without `view`: the page itself (HTML), once. With `view`: the poll (JSON);
   * the poll that reports the outcome is the last one. Every refusal is a 404 with its sentence, HTML for
   * a page load and JSON for a poll.
   */
  async serve(token: string, view: string | undefined): Promise<LinkPageAnswer> {
    const poll = view !== undefined;
    const refuse = (why: LinkPageRefusal) => refusal(why, poll);
    if (!TOKEN_PATTERN.test(token)) return refuse('malformed');
    const key = digest(token);
    await this.written;
    const record = await this.pages.get(key);
    const now = this.now();
    if (!record || now >= record.forgetAt) return refuse('unknown');
    if (record.retired) return refuse(record.retired);
    if (now >= record.expiresAt) {
      await this.pages.retire(key, 'expired', now + REMEMBER_MS);
      return refuse('expired');
    }
    if (!poll) {
      const viewKey = this.randomBytes(32).toString('base64url');
      if (!(await this.pages.claimView(key, digest(viewKey)))) return refuse('used');
      return page(200, linkPageHtml(viewKey, record.expiresAt));
    }
    if (record.viewKey === null || digest(view) !== record.viewKey) return refuse('used');
    const state = JSON.parse(record.state) as LinkPageState;
    if (state.status !== 'waiting') await this.pages.retire(key, 'used', now + REMEMBER_MS);
    return json(200, state);
  }

  /** Settles once this process's page writes so far are in the store (before a link is handed out). */
  flushed(): Promise<void> {
    return this.written;
  }

  /** Writes what the session's page shows now (queued behind this process's earlier writes). */
  private save(session: LinkPageSession): void {
    const key = digest(session.token);
    const state = JSON.stringify(session.state());
    this.write(() => this.pages.put(key, session.expiresAt, state, session.expiresAt + REMEMBER_MS));
  }

  private write(operation: () => Promise<void>): void {
    this.written = this.written.then(operation).catch((error: unknown) => this.onError(error));
  }

  private pruneLocal(): void {
    const now = this.now();
    for (const [key, session] of this.local) if (now >= session.expiresAt) this.local.delete(key);
  }
}

/** The URL of a link page: the engine's template with the token in place. */
export function fillLinkToken(template: string, token: string): string {
  return template.split(LINK_TOKEN_PLACEHOLDER).join(token);
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}


// Nothing here may be cached or leak the address to another site.
const COMMON_HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };

function page(status: 200 | 404, html: string): LinkPageAnswer {
  return {
    status,
    headers: {
      ...COMMON_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
    },
    body: html,
  };
}

function json(status: 200 | 404, body: unknown): LinkPageAnswer {
  return { status, headers: { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}

function refusal(why: LinkPageRefusal, poll: boolean): LinkPageAnswer {
  const message = LINK_PAGE_SENTENCES[why];
  return poll ? json(404, { status: 404, message }) : page(404, messagePageHtml(message));
}
