import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { linkPageHtml, messagePageHtml } from './link-page-html';
import type { Account } from '../model';
import type { QrCode } from '../transport/linking';

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
const REMEMBER_MAX = 1000;

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
  /** Set by the first page load; every poll must carry it. */
  viewKey: string | undefined;

  constructor(
    /** The link's token: its URL's last segment. */
    readonly token: string,
    readonly expiresAt: number,
  ) {}

  /**
   * A QR to show, in place of the one before: the linking connection's QRs come in here as WhatsApp
   * rotates them (test hooks call it to stand in for WhatsApp, which is not reachable in tests).
   */
  show(qr: QrCode): void {
    this.qrCode = qr;
    this.events.emit('qr', qr);
  }

  showPairingCode(code: string): void {
    this.code = code;
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
    this.outcome ??= { linked: account };
  }

  failed(reason: string): void {
    this.outcome ??= { failed: reason };
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

/** A workspace's open link pages, by the SHA-256 of their token (no secret is compared byte by byte). */
export class LinkPages {
  private readonly open = new Map<string, LinkPageSession>();
  private readonly gone = new Map<string, { readonly why: 'expired' | 'used'; readonly until: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly randomBytes: (size: number) => Buffer = cryptoRandomBytes,
  ) {}

  /** Opens a page for a linking session that ends at `expiresAt`. */
  start(expiresAt: number): LinkPageSession {
    this.prune();
    const session = new LinkPageSession(this.randomBytes(32).toString('base64url'), expiresAt);
    this.open.set(digest(session.token), session);
    return session;
  }

  /** The newest session still open: what a test hook publishes a QR into. */
  newest(): LinkPageSession | undefined {
    this.prune();
    return [...this.open.values()].at(-1);
  }

  /** The linking session ended before its time (cancelled): its link answers "expired" from now on. */
  end(session: LinkPageSession): void {
    if (this.open.get(digest(session.token)) === session) this.retire(digest(session.token), 'expired');
  }

  /**
   * A GET of the link page. Without `view`: the page itself (HTML), once. With `view`: the poll (JSON);
   * the poll that reports the outcome is the last one. Every refusal is a 404 with its sentence, HTML for
   * a page load and JSON for a poll.
   */
  serve(token: string, view: string | undefined): LinkPageAnswer {
    this.prune();
    const poll = view !== undefined;
    const refuse = (why: LinkPageRefusal) => refusal(why, poll);
    if (!TOKEN_PATTERN.test(token)) return refuse('malformed');
    const key = digest(token);
    const session = this.open.get(key);
    if (!session) return refuse(this.gone.get(key)?.why ?? 'unknown');
    if (!poll) {
      if (session.viewKey !== undefined) return refuse('used');
      session.viewKey = this.randomBytes(32).toString('base64url');
      return page(200, linkPageHtml(session.viewKey, session.expiresAt));
    }
    if (session.viewKey === undefined || !sameText(view, session.viewKey)) return refuse('used');
    const state = session.state();
    if (state.status !== 'waiting') this.retire(key, 'used');
    return json(200, state);
  }

  private retire(key: string, why: 'expired' | 'used'): void {
    this.open.delete(key);
    this.gone.set(key, { why, until: this.now() + REMEMBER_MS });
    if (this.gone.size > REMEMBER_MAX) this.gone.delete(this.gone.keys().next().value!);
  }

  private prune(): void {
    const now = this.now();
    for (const [key, session] of this.open) if (now >= session.expiresAt) this.retire(key, 'expired');
    for (const [key, entry] of this.gone) if (now >= entry.until) this.gone.delete(key);
  }
}

/** The URL of a link page: the engine's template with the token in place. */
export function fillLinkToken(template: string, token: string): string {
  return template.split(LINK_TOKEN_PLACEHOLDER).join(token);
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function sameText(a: string, b: string): boolean {
  return digest(a) === digest(b);
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
