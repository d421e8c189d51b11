import type { LinkPageSession } from '../linking/link-pages';
import type { QrCode } from '../transport/linking';
import type { LinkOptions, Workspace } from '../workspace/workspace';

export interface LinkSessionOptions extends LinkOptions {
  /** Gives up linking after this long (the QR or code is no use any more). */
  readonly timeoutMs: number;
  /** How long to wait for WhatsApp to hand out the first QR or pairing code. */
  readonly firstCodeWithinMs: number;
}

export interface LinkSession {
  readonly qr?: QrCode;
  readonly pairingCode?: string;
  /** The token of the session's one-time link page (Workspace.linkPages), which expires with it. */
  readonly linkToken: string;
  readonly expiresAt: number;
  /** Settles when the phone is linked, linking fails, or the time is up (never rejects). */
  readonly settled: Promise<void>;
}

/**
 * Starts linking and waits for the first QR or pairing code, for engines that show it once (an n8n
 * step's output) and through a one-time link page that follows the rotating QR. Linking goes on in the
 * background until `timeoutMs`.
 */
export async function startLinkSession(workspace: Workspace, options: LinkSessionOptions): Promise<LinkSession> {
  const handle = workspace.startLink(options.pairingPhone === undefined ? {} : { pairingPhone: options.pairingPhone });
  const expiresAt = Date.now() + options.timeoutMs;
  const page = workspace.linkPages.start(expiresAt);
  feed(page, handle);
  const timer = setTimeout(() => void handle.cancel().catch(() => undefined), options.timeoutMs);
  timer.unref();
  const settled = handle.linked.then(
    () => undefined,
    () => undefined,
  );
  void settled.finally(() => clearTimeout(timer));

  // The page session is where codes arrive (from WhatsApp through the handle, or a test hook).
  const first = await new Promise<{ qr?: QrCode; pairingCode?: string } | Error>((resolve) => {
    const stops: (() => void)[] = [];
    const done = (value: { qr?: QrCode; pairingCode?: string } | Error) => {
      for (const stop of stops) stop();
      clearTimeout(wait);
      resolve(value);
    };
    const wait = setTimeout(() => done(new Error(`WhatsApp gave no ${options.pairingPhone ? 'pairing code' : 'QR code'} within ${Math.round(options.firstCodeWithinMs / 1000)} s; check the network and try again.`)), options.firstCodeWithinMs);
    if (options.pairingPhone === undefined) stops.push(page.onQr((qr) => done({ qr })));
    else stops.push(page.onPairingCode((pairingCode) => done({ pairingCode })));
    handle.linked.then(
      () => done(new Error('The phone was linked before a code was shown.')),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });
  if (first instanceof Error) {
    workspace.linkPages.end(page);
    await handle.cancel().catch(() => undefined);
    throw first;
  }
  // The link may be opened in another process of the workspace (n8n's webhook process): its page is in the store first.
  await workspace.linkPages.flushed();
  return { ...first, linkToken: page.token, expiresAt, settled };
}

/** Hands the linking connection's codes and outcome to its page. */
function feed(page: LinkPageSession, handle: ReturnType<Workspace['startLink']>): void {
  handle.onQr((qr) => page.show(qr));
  handle.onPairingCode((code) => page.showPairingCode(code));
  handle.linked.then(
    (account) => page.linked(account),
    (error: unknown) => page.failed(error instanceof Error ? error.message : String(error)),
  );
}
