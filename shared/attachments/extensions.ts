/**
 * Mimetypes by file-name extension, for files whose bytes we cannot recognise. Media types are left out on
 * purpose: an image, video or audio type must come from the bytes, or WhatsApp shows a broken file.
 */
const BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ['txt', 'text/plain'],
  ['csv', 'text/csv'],
  ['tsv', 'text/tab-separated-values'],
  ['json', 'application/json'],
  ['xml', 'application/xml'],
  ['rtf', 'application/rtf'],
  ['vcf', 'text/vcard'],
  ['ics', 'text/calendar'],
  ['svg', 'image/svg+xml'],
  ['pdf', 'application/pdf'],
  ['doc', 'application/msword'],
  ['xls', 'application/vnd.ms-excel'],
  ['ppt', 'application/vnd.ms-powerpoint'],
  ['rar', 'application/vnd.rar'],
  ['7z', 'application/x-7z-compressed'],
  ['gz', 'application/gzip'],
  ['tar', 'application/x-tar'],
]);

export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** Formats that are ZIP archives inside; their bytes only say "zip". */
const ZIP_BASED_BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ['docx', DOCX],
  ['xlsx', XLSX],
  ['pptx', PPTX],
  ['odt', 'application/vnd.oasis.opendocument.text'],
  ['ods', 'application/vnd.oasis.opendocument.spreadsheet'],
  ['odp', 'application/vnd.oasis.opendocument.presentation'],
  ['epub', 'application/epub+zip'],
  ['zip', 'application/zip'],
]);

export function typeFromExtension(fileName: string): string | undefined {
  const extension = extensionOf(fileName);
  return BY_EXTENSION.get(extension) ?? ZIP_BASED_BY_EXTENSION.get(extension);
}

export function zipTypeFromExtension(fileName: string): string | undefined {
  return ZIP_BASED_BY_EXTENSION.get(extensionOf(fileName));
}

/** "Report.Final.PDF" → "pdf"; "" when the name has no extension. */
function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot <= 0 ? '' : fileName.slice(dot + 1).toLowerCase();
}
