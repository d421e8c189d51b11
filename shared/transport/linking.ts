import { EventEmitter } from 'node:events';
import QRCode from 'qrcode';
import type { Account } from '../model';

/** A QR code to scan in WhatsApp (Linked devices → Link a device); Baileys rotates it every ~20 s. */
export interface QrCode {
  /** The text the QR encodes, for renderers of one's own. */
  readonly qr: string;
  /** The same QR as a PNG data URL, ready for an <img src>. */
  readonly dataUrl: string;
}

/** Who WhatsApp says the linked phone is. */
export interface LinkedIdentity {
  readonly phone: string;
  readonly name: string | null;
}

/** What a linking attempt reports (a driver's LinkAttempt; Baileys' connection in link mode). */
export interface LinkSource {
  onQr(listener: (qr: string) => void): () => void;
  onPairingCode(listener: (code: string) => void): () => void;
  /** Settles once: linked (with who), or failed (with a sentence). */
  readonly outcome: Promise<LinkedIdentity>;
  /** Stops linking (closes the socket); the outcome then rejects. */
  cancel(): Promise<void>;
}

/**
 * The caller's view of one linking attempt: QR codes (text and PNG) as they rotate, or the pairing
 * code, and the linked account once the phone confirms. Late listeners get the latest QR at once.
 */
export class LinkHandle {
  /** Resolves with the linked account; rejects with an Error whose message says what to do. */
  readonly linked: Promise<Account>;
  private readonly events = new EventEmitter();
  private latestQr: QrCode | undefined;
  private latestCode: string | undefined;
  private rendering: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: LinkSource,
    complete: (identity: LinkedIdentity) => Promise<Account>,
    render: (qr: string) => Promise<string> = qrDataUrl,
  ) {
    source.onQr((qr) => {
      // Render in order, so a slow PNG never overtakes the QR that replaced it.
      this.rendering = this.rendering.then(async () => {
        this.latestQr = { qr, dataUrl: await render(qr) };
        this.events.emit('qr', this.latestQr);
      });
    });
    source.onPairingCode((code) => {
      this.latestCode = code;
      this.events.emit('pairing-code', code);
    });
    this.linked = source.outcome.then(complete);
    this.linked.catch(() => undefined).finally(() => this.events.removeAllListeners());
  }

  get qr(): QrCode | undefined {
    return this.latestQr;
  }

  get pairingCode(): string | undefined {
    return this.latestCode;
  }

  onQr(listener: (qr: QrCode) => void): () => void {
    if (this.latestQr) listener(this.latestQr);
    this.events.on('qr', listener);
    return () => this.events.off('qr', listener);
  }

  onPairingCode(listener: (code: string) => void): () => void {
    if (this.latestCode) listener(this.latestCode);
    this.events.on('pairing-code', listener);
    return () => this.events.off('pairing-code', listener);
  }

  /** Gives up linking; `linked` rejects. */
  async cancel(): Promise<void> {
    await this.source.cancel();
  }
}

export function qrDataUrl(qr: string): Promise<string> {
  return QRCode.toDataURL(qr, { errorCorrectionLevel: 'L', margin: 2, scale: 6 });
}

/** The QR drawn with block characters, for the command-line link. */
export function qrTerminal(qr: string): Promise<string> {
  return QRCode.toString(qr, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}

/** WhatsApp shows pairing codes as XXXX-XXXX. */
export function formatPairingCode(code: string): string {
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}
