import type { QrCode } from './transport/baileys/linking';
import type { LinkOptions, Workspace } from './workspace';

export interface LinkSessionOptions extends LinkOptions {
  /** Gives up linking after this long (the QR or code is no use any more). */
  readonly timeoutMs: number;
  /** How long to wait for WhatsApp to hand out the first QR or pairing code. */
  readonly firstCodeWithinMs: number;
}

export interface LinkSession {
  readonly qr?: QrCode;
  readonly pairingCode?: string;
  /** Settles when the phone is linked, linking fails, or the time is up (never rejects). */
  readonly settled: Promise<void>;
}

/**
 * Starts linking and waits for the first QR or pairing code, for engines that show it once (an n8n
 * step's output) rather than live. Linking goes on in the background until `timeoutMs`.
 */
export async function startLinkSession(workspace: Workspace, options: LinkSessionOptions): Promise<LinkSession> {
  const handle = workspace.startLink(options.pairingPhone === undefined ? {} : { pairingPhone: options.pairingPhone });
  const timer = setTimeout(() => void handle.cancel().catch(() => undefined), options.timeoutMs);
  timer.unref();
  const settled = handle.linked.then(
    () => undefined,
    () => undefined,
  );
  void settled.finally(() => clearTimeout(timer));

  const first = await new Promise<{ qr?: QrCode; pairingCode?: string } | Error>((resolve) => {
    const stops: (() => void)[] = [];
    const done = (value: { qr?: QrCode; pairingCode?: string } | Error) => {
      for (const stop of stops) stop();
      clearTimeout(wait);
      resolve(value);
    };
    const wait = setTimeout(() => done(new Error(`WhatsApp gave no ${options.pairingPhone ? 'pairing code' : 'QR code'} within ${Math.round(options.firstCodeWithinMs / 1000)} s; check the network and try again.`)), options.firstCodeWithinMs);
    if (options.pairingPhone === undefined) stops.push(handle.onQr((qr) => done({ qr })));
    else stops.push(handle.onPairingCode((pairingCode) => done({ pairingCode })));
    handle.linked.then(
      () => done(new Error('The phone was linked before a code was shown.')),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });
  if (first instanceof Error) {
    await handle.cancel().catch(() => undefined);
    throw first;
  }
  return { ...first, settled };
}
