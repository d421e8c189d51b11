import { checkAttachedFile, type AttachedFileInput } from '../attachments';
import type { DownloadedFile } from '../attachments/types';
import type { SendRequest } from '../contract/types';
import { fail, ok, reject, type Result } from '../rejection';

/**
 * An engine's attached file must match the request (a file named `attached` comes with bytes, and only
 * then), and meet the limits a download would; undefined when the request attaches nothing.
 */
export function checkAttached(request: SendRequest, attached: AttachedFileInput | undefined, maxBytes: number): Result<DownloadedFile | undefined> {
  const wantsAttachment = request.file !== undefined && 'attached' in request.file;
  if (wantsAttachment !== (attached !== undefined)) {
    return fail(reject(400, wantsAttachment ? 'The request names an attached file, but no file was attached.' : 'A file was attached to a request that does not name one.', 'attachment'));
  }
  return attached ? checkAttachedFile(attached, request.file!.name, maxBytes) : ok(undefined);
}
