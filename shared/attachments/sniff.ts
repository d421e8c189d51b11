import { DOCX, PPTX, XLSX, typeFromExtension, zipTypeFromExtension } from './extensions';
import type { MediaKind } from './types';
import { zipEntryNames } from './zip-entries';

// Magic numbers are written by hand: the `file-type` package is ESM-only, which our CommonJS output (and
// jest through ts-jest) cannot load without dynamic-import workarounds, and WhatsApp only cares about a
// handful of formats.

export interface MediaType {
  readonly mimetype: string;
  readonly kind: MediaKind;
}

/** The formats WhatsApp can show inline; every other type travels as a document. */
const KIND_BY_MIMETYPE: ReadonlyMap<string, MediaKind> = new Map([
  ['image/jpeg', 'image'],
  ['image/png', 'image'],
  ['image/webp', 'image'],
  ['video/mp4', 'video'],
  ['video/3gpp', 'video'],
  ['audio/ogg; codecs=opus', 'audio'],
  ['audio/mpeg', 'audio'],
  ['audio/mp4', 'audio'],
  ['audio/aac', 'audio'],
  ['audio/amr', 'audio'],
]);

/** Major brands of ISO media (MP4 family) files that are not plain MP4 video. */
const ISO_BRANDS: ReadonlyMap<string, string> = new Map([
  ['M4A ', 'audio/mp4'],
  ['M4B ', 'audio/mp4'],
  ['qt  ', 'video/quicktime'],
  ['heic', 'image/heic'],
  ['heix', 'image/heic'],
  ['mif1', 'image/heif'],
  ['avif', 'image/avif'],
]);

const OFFICE_FOLDERS: ReadonlyArray<readonly [folder: string, mimetype: string]> = [
  ['word/', DOCX],
  ['xl/', XLSX],
  ['ppt/', PPTX],
];

/** Content types servers send when they do not know the type; they say nothing about the file. */
const GENERIC_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'application/octet-stream',
  'binary/octet-stream',
  'application/binary',
  'application/unknown',
  'application/x-unknown',
  'application/download',
  'application/x-download',
  'application/force-download',
  'text/plain', // the fallback of many servers (raw.githubusercontent.com serves everything as text/plain)
]);

const TEXTUAL_APPLICATION_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'application/xml',
  'application/rtf',
  'application/javascript',
  'application/yaml',
]);

/** A page's first tag, after a BOM, whitespace, an XML declaration and comments (cf. WHATWG MIME Sniffing). */
const HTML_START = /^<(?:!doctype\s+html|html|head|body|script|iframe|title|meta|style)(?=[\s>/]|$)/i;
const MARKUP_PROLOGUE = /^(?:\s|<\?xml[\s\S]*?\?>|<!--[\s\S]*?-->)+/;

/** Control characters that do not occur in text files (tab, newlines, form feed and escape do). */
const BINARY_CONTROL = /[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]/;

const SNIFF_WINDOW = 4096;

/**
 * The file's real type. Recognised bytes decide alone, so a PNG served as text/plain is still an image.
 * Otherwise the server's Content-Type, then the name's extension, may name the type, but the file is then
 * always a document: claiming media kinds for bytes we cannot recognise would show a broken file.
 */
export function detectMediaType(bytes: Buffer, contentType: string | undefined, fileName: string): MediaType {
  const signature = sniffSignature(bytes, fileName);
  if (signature !== undefined) return { mimetype: signature, kind: mediaKindOf(signature) };
  const text = sniffText(bytes);
  const claimed = [declaredType(contentType), typeFromExtension(fileName)].find(
    (type) => type !== undefined && (text === undefined || isTextual(type)),
  );
  return { mimetype: claimed ?? text ?? 'application/octet-stream', kind: 'document' };
}

export function mediaKindOf(mimetype: string): MediaKind {
  return KIND_BY_MIMETYPE.get(mimetype) ?? 'document';
}

/** True for the start of an HTML page: what a file host's "download page" link returns instead of the file. */
export function looksLikeHtml(bytes: Buffer): boolean {
  const start = bytes.toString('utf8', 0, SNIFF_WINDOW).replace(/^\uFEFF/, '').replace(MARKUP_PROLOGUE, '');
  return HTML_START.test(start);
}

/** True for a Content-Type naming a web page. */
export function isWebPageContentType(contentType: string | undefined): boolean {
  const essence = essenceOf(contentType);
  return essence === 'text/html' || essence === 'application/xhtml+xml';
}

/** The mimetype that the file's leading bytes prove, if they match a known signature. */
export function sniffSignature(bytes: Buffer, fileName: string): string | undefined {
  if (startsWith(bytes, 0, '\xff\xd8\xff')) return 'image/jpeg';
  if (startsWith(bytes, 0, '\x89PNG\r\n\x1a\n')) return 'image/png';
  if (startsWith(bytes, 0, 'GIF87a') || startsWith(bytes, 0, 'GIF89a')) return 'image/gif';
  if (startsWith(bytes, 0, 'RIFF') && startsWith(bytes, 8, 'WEBP')) return 'image/webp';
  if (startsWith(bytes, 0, 'RIFF') && startsWith(bytes, 8, 'WAVE')) return 'audio/wav';
  if (isBmp(bytes)) return 'image/bmp';
  if (startsWith(bytes, 0, '%PDF-')) return 'application/pdf';
  if (startsWith(bytes, 0, 'PK\x03\x04') || startsWith(bytes, 0, 'PK\x05\x06')) return zipType(bytes, fileName);
  if (startsWith(bytes, 4, 'ftyp') && bytes.length >= 12) return isoMediaType(bytes.toString('latin1', 8, 12));
  if (startsWith(bytes, 0, 'OggS')) return oggType(bytes);
  if (startsWith(bytes, 0, '#!AMR\n')) return 'audio/amr';
  if (startsWith(bytes, 0, '#!AMR-WB\n')) return 'audio/amr-wb';
  if (startsWith(bytes, 0, 'ID3')) return 'audio/mpeg';
  return frameSyncType(bytes);
}

/** "application/xml" or "text/plain" for UTF-8 text without binary control characters. */
export function sniffText(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return undefined;
  const sample = bytes.subarray(0, SNIFF_WINDOW);
  if (BINARY_CONTROL.test(sample.toString('latin1'))) return undefined;
  try {
    // `stream` tolerates a multi-byte character cut at the end of the window.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
  } catch {
    return undefined;
  }
  return /^\uFEFF?\s*<\?xml[\s?]/.test(sample.toString('utf8')) ? 'application/xml' : 'text/plain';
}

function startsWith(bytes: Buffer, offset: number, signature: string): boolean {
  return bytes.toString('latin1', offset, offset + signature.length) === signature;
}

function isBmp(bytes: Buffer): boolean {
  // "BM" alone is too common a start; the DIB header size that follows is one of a few known values.
  if (!startsWith(bytes, 0, 'BM') || bytes.length < 18) return false;
  return [12, 40, 52, 56, 64, 108, 124].includes(bytes.readUInt32LE(14));
}

function zipType(bytes: Buffer, fileName: string): string {
  const names = zipEntryNames(bytes) ?? [];
  const office = OFFICE_FOLDERS.find(([folder]) => names.some((name) => name.startsWith(folder)));
  return office?.[1] ?? zipTypeFromExtension(fileName) ?? 'application/zip';
}

function isoMediaType(brand: string): string {
  if (brand.startsWith('3gp')) return 'video/3gpp';
  if (brand.startsWith('3g2')) return 'video/3gpp2';
  return ISO_BRANDS.get(brand) ?? 'video/mp4';
}

/** WhatsApp voice notes are Opus in Ogg; other Ogg codecs (Vorbis, FLAC) do not play as audio messages. */
function oggType(bytes: Buffer): string {
  const firstPacket = 27 + (bytes[26] ?? 0); // page header, then one byte per segment
  return startsWith(bytes, firstPacket, 'OpusHead') ? 'audio/ogg; codecs=opus' : 'audio/ogg';
}

/** Raw AAC (ADTS) and MP3 start with an 11/12-bit frame sync instead of a magic string. */
function frameSyncType(bytes: Buffer): string | undefined {
  if (bytes.length < 3 || bytes[0] !== 0xff) return undefined;
  const b1 = bytes[1];
  const b2 = bytes[2];
  // ADTS: 12 sync bits, layer 00, a sampling-frequency index below 13.
  if ((b1 & 0xf6) === 0xf0 && ((b2 >> 2) & 0x0f) < 13) return 'audio/aac';
  // MPEG audio: 11 sync bits, a layer other than 00, a valid bitrate and sample-rate index.
  if ((b1 & 0xe0) === 0xe0 && (b1 & 0x06) !== 0 && b2 >> 4 !== 0x0f && ((b2 >> 2) & 0x03) !== 0x03) return 'audio/mpeg';
  return undefined;
}

/** A usable Content-Type: not a web page, not generic, shaped like type/subtype. */
function declaredType(contentType: string | undefined): string | undefined {
  const essence = essenceOf(contentType);
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(essence) || GENERIC_CONTENT_TYPES.has(essence)) return undefined;
  return isWebPageContentType(essence) ? undefined : essence;
}

function isTextual(mimetype: string): boolean {
  return (
    mimetype.startsWith('text/') ||
    mimetype.endsWith('+xml') ||
    mimetype.endsWith('+json') ||
    TEXTUAL_APPLICATION_TYPES.has(mimetype)
  );
}

/** "Text/CSV; charset=utf-8" → "text/csv". */
function essenceOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}
