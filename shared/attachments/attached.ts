import { fail, ok, reject, type Result } from '../rejection';
import { detectMediaType, looksLikeHtml } from './sniff';
import type { DownloadedFile } from './types';

/** A file an engine attached to a send (a Node-RED Buffer, an n8n binary property). */
export interface AttachedFileInput {
  readonly data: Buffer;
  /** The type the engine reports, if any; the bytes decide when they are recognisable. */
  readonly mimetype?: string;
}

/**
 * Checks an attached file at acceptance with the same limits a downloaded one meets at sending, so a
 * file that could never be sent is refused before it is queued or charged.
 */
export function checkAttachedFile(file: AttachedFileInput, fileName: string, maxBytes: number): Result<DownloadedFile> {
  if (file.data.length === 0) return fail(reject(400, 'The attached file is empty.', 'attachment'));
  if (file.data.length > maxBytes) {
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    return fail(reject(413, `The attached file is ${mb(file.data.length)}; the limit is ${mb(maxBytes)}.`, 'attachment'));
  }
  if (looksLikeHtml(file.data)) return fail(reject(400, 'The attached file is a web page, not a file.', 'attachment'));
  const type = detectMediaType(file.data, file.mimetype, fileName);
  return ok({ buffer: file.data, mimetype: type.mimetype, kind: type.kind, fileName, finalUrl: '' });
}
