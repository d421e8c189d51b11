export { isPublicAddress } from './address-guard';
export { downloadAttachment, type DownloadDeps } from './download';
export { AttachmentError, type AttachmentErrorCode } from './errors';
export { detectMediaType, looksLikeHtml, mediaKindOf, type MediaType } from './sniff';
export { DEFAULT_DOWNLOAD_POLICY, type DownloadedFile, type DownloadPolicy, type MediaKind } from './types';
export { checkAttachedFile, type AttachedFileInput } from './attached';
