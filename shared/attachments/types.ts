/** How WhatsApp will show an attachment, chosen from the file's real type. */
export type MediaKind = 'image' | 'video' | 'audio' | 'document';

export interface DownloadPolicy {
  /** Hard cap enforced while streaming, not only from Content-Length. The spec's 2 MB = 2 * 1024 * 1024. */
  readonly maxBytes: number;
  /** Whole download, from first connect to last byte, across redirects. */
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  /** Loopback, private, link-local, CGNAT, unique-local and unspecified addresses are refused unless true. */
  readonly allowPrivateAddresses: boolean;
}

export const DEFAULT_DOWNLOAD_POLICY: DownloadPolicy = {
  maxBytes: 2 * 1024 * 1024,
  timeoutMs: 30_000,
  maxRedirects: 3,
  allowPrivateAddresses: false,
};

export interface DownloadedFile {
  readonly buffer: Buffer;
  readonly mimetype: string;
  readonly kind: MediaKind;
  readonly fileName: string;
  /** The URL the bytes finally came from, after redirects. */
  readonly finalUrl: string;
}
