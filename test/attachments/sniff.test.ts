import {
  detectMediaType,
  isWebPageContentType,
  looksLikeHtml,
  sniffSignature,
  sniffText,
} from '../../shared/attachments/sniff';
import { zipEntryNames } from '../../shared/attachments/zip-entries';
import { makeZip, SAMPLES } from './helpers/samples';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

describe('detectMediaType from signatures', () => {
  test.each([
    ['jpeg', SAMPLES.jpeg, 'file', 'image/jpeg', 'image'],
    ['png', SAMPLES.png, 'file', 'image/png', 'image'],
    ['gif87a', SAMPLES.gif87, 'file', 'image/gif', 'document'],
    ['gif89a', SAMPLES.gif89, 'file', 'image/gif', 'document'],
    ['webp', SAMPLES.webp, 'file', 'image/webp', 'image'],
    ['bmp', SAMPLES.bmp, 'file', 'image/bmp', 'document'],
    ['pdf', SAMPLES.pdf, 'file', 'application/pdf', 'document'],
    ['plain zip', SAMPLES.zip, 'archive.zip', 'application/zip', 'document'],
    ['empty zip', SAMPLES.emptyZip, 'archive', 'application/zip', 'document'],
    ['docx by its entries', SAMPLES.docx, 'contract', DOCX, 'document'],
    ['xlsx by its entries', SAMPLES.xlsx, 'report.bin', XLSX, 'document'],
    ['pptx by its entries', SAMPLES.pptx, 'slides', PPTX, 'document'],
    ['zip named .docx', SAMPLES.zip, 'Contract.DOCX', DOCX, 'document'],
    ['zip named .odt', SAMPLES.zip, 'letter.odt', 'application/vnd.oasis.opendocument.text', 'document'],
    ['zip named .pdf stays zip', SAMPLES.zip, 'fake.pdf', 'application/zip', 'document'],
    ['mp4', SAMPLES.mp4, 'file', 'video/mp4', 'video'],
    ['m4a', SAMPLES.m4a, 'file', 'audio/mp4', 'audio'],
    ['3gp', SAMPLES.threeGp, 'file', 'video/3gpp', 'video'],
    ['mov', SAMPLES.mov, 'file', 'video/quicktime', 'document'],
    ['heic', SAMPLES.heic, 'file', 'image/heic', 'document'],
    ['ogg opus', SAMPLES.opus, 'file', 'audio/ogg; codecs=opus', 'audio'],
    ['ogg vorbis', SAMPLES.vorbis, 'file', 'audio/ogg', 'document'],
    ['mp3 with ID3', SAMPLES.mp3Id3, 'file', 'audio/mpeg', 'audio'],
    ['mp3 frame sync', SAMPLES.mp3Frame, 'file', 'audio/mpeg', 'audio'],
    ['aac adts', SAMPLES.aacAdts, 'file', 'audio/aac', 'audio'],
    ['amr', SAMPLES.amr, 'file', 'audio/amr', 'audio'],
    ['amr-wb', SAMPLES.amrWb, 'file', 'audio/amr-wb', 'document'],
    ['wav', SAMPLES.wav, 'file', 'audio/wav', 'document'],
  ])('%s', (_label, bytes, fileName, mimetype, kind) => {
    expect(detectMediaType(bytes, undefined, fileName)).toEqual({ mimetype, kind });
  });

  test('the bytes win over a wrong Content-Type and a wrong extension', () => {
    expect(detectMediaType(SAMPLES.png, 'text/plain', 'invoice.pdf')).toEqual({ mimetype: 'image/png', kind: 'image' });
    expect(detectMediaType(SAMPLES.jpeg, 'video/mp4', 'clip.mp4')).toEqual({ mimetype: 'image/jpeg', kind: 'image' });
  });

  test.each([
    ['"BM" without a DIB header', Buffer.from('BMxxxxxxxxxxxxxxxxxxxxxx')],
    ['0xFF followed by no sync', Buffer.from([0xff, 0x00, 0x00, 0x00])],
    ['MPEG sync with a bad bitrate index', Buffer.from([0xff, 0xfb, 0xf0, 0x00])],
    ['too short for ftyp', Buffer.from('\0\0\0\x18ftyp', 'latin1')],
    ['empty', Buffer.alloc(0)],
  ])('no signature: %s', (_label, bytes) => {
    expect(sniffSignature(bytes, 'file')).toBeUndefined();
  });
});

describe('detectMediaType for unrecognised bytes', () => {
  const text = Buffer.from('name,phone\nAna,+14151231234\n');
  test.each([
    ['a specific Content-Type', SAMPLES.unknownBinary, 'application/x-7z-compressed', 'a', 'application/x-7z-compressed'],
    ['Content-Type parameters are dropped', SAMPLES.unknownBinary, 'Application/X-Foo; q=1', 'a', 'application/x-foo'],
    ['generic Content-Type → extension', SAMPLES.unknownBinary, 'binary/octet-stream', 'a.rar', 'application/vnd.rar'],
    ['text/html is never used → extension', SAMPLES.unknownBinary, 'text/html', 'old.doc', 'application/msword'],
    ['malformed Content-Type → extension', SAMPLES.unknownBinary, 'nonsense', 'a.7z', 'application/x-7z-compressed'],
    ['nothing known', SAMPLES.unknownBinary, undefined, 'file', 'application/octet-stream'],
    ['unknown extension', SAMPLES.unknownBinary, '', 'file.xyz', 'application/octet-stream'],
    ['a media claim is kept as a name only', SAMPLES.unknownBinary, 'video/mp4', 'a', 'video/mp4'],
    ['text with text/csv', text, 'text/csv; charset=utf-8', 'a', 'text/csv'],
    ['text with generic text/plain → extension', text, 'text/plain', 'contacts.csv', 'text/csv'],
    ['text with a binary claim → text/plain', text, 'image/png', 'a', 'text/plain'],
    ['text with a binary extension → text/plain', text, undefined, 'a.rar', 'text/plain'],
    ['text with application/json', Buffer.from('{"a":1}'), 'application/json', 'a', 'application/json'],
    ['xml without a claim', Buffer.from('<?xml version="1.0"?><root/>'), undefined, 'a', 'application/xml'],
    ['svg by Content-Type', Buffer.from('<svg xmlns="x"/>'), 'image/svg+xml', 'a', 'image/svg+xml'],
  ])('%s', (_label, bytes, contentType, fileName, mimetype) => {
    expect(detectMediaType(bytes, contentType, fileName)).toEqual({ mimetype, kind: 'document' });
  });
});

describe('looksLikeHtml', () => {
  test.each([
    '<!DOCTYPE html><html><body>Download</body></html>',
    '<!doctype HTML>',
    '<html lang="en">',
    '<HTML>',
    '\uFEFF  \r\n\t<html>',
    '<head><title>x</title></head>',
    '<body>',
    '<script>location.href="/x"</script>',
    '<title>Google Drive</title>',
    '<meta http-equiv="refresh" content="0;url=/x">',
    '<!-- generated -->\n<!DOCTYPE html>',
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">',
    '<html',
  ])('%j is a web page', (page) => {
    expect(looksLikeHtml(Buffer.from(page))).toBe(true);
  });

  test.each([
    '<header>not a page start</header>',
    '<?xml version="1.0"?><rss version="2.0"/>',
    'hello <html>',
    '<htmlx>',
    '',
  ])('%j is not a web page', (text) => {
    expect(looksLikeHtml(Buffer.from(text))).toBe(false);
  });

  test('binary files are not web pages', () => {
    for (const sample of Object.values(SAMPLES)) expect(looksLikeHtml(sample)).toBe(false);
  });
});

describe('sniffText', () => {
  test.each([
    ['plain ASCII', Buffer.from('hello\r\nworld\t!\f'), 'text/plain'],
    ['UTF-8', Buffer.from('héllo wörld — ✓'), 'text/plain'],
    ['UTF-8 with BOM', Buffer.from('\uFEFFhello'), 'text/plain'],
    ['XML', Buffer.from('\uFEFF\n<?xml version="1.0"?>\n<a/>'), 'application/xml'],
    ['ANSI escapes', Buffer.from('\x1b[31mred\x1b[0m'), 'text/plain'],
    ['a character cut at the window end', Buffer.concat([Buffer.alloc(4095, 'a'), Buffer.from('é')]), 'text/plain'],
    ['Latin-1', Buffer.from('h\xe9llo', 'latin1'), undefined],
    ['NUL bytes', Buffer.from('a\0b'), undefined],
    ['UTF-16', Buffer.from('\uFEFFhi', 'utf16le'), undefined],
    ['empty', Buffer.alloc(0), undefined],
  ])('%s', (_label, bytes, expected) => {
    expect(sniffText(bytes)).toBe(expected);
  });
});

describe('isWebPageContentType', () => {
  test.each([
    ['text/html', true],
    ['Text/HTML; charset=UTF-8', true],
    ['application/xhtml+xml', true],
    ['text/plain', false],
    ['application/octet-stream', false],
    [undefined, false],
  ])('%s → %s', (contentType, expected) => {
    expect(isWebPageContentType(contentType)).toBe(expected);
  });
});

describe('zipEntryNames', () => {
  test('reads the central directory', () => {
    expect(zipEntryNames(makeZip(['a.txt', 'dir/b.bin']))).toEqual(['a.txt', 'dir/b.bin']);
  });

  test('finds the directory behind an archive comment', () => {
    const zip = makeZip(['x']);
    const comment = Buffer.from('archive comment');
    zip.writeUInt16LE(comment.length, zip.length - 2);
    expect(zipEntryNames(Buffer.concat([zip, comment]))).toEqual(['x']);
  });

  test.each([
    ['a truncated archive', makeZip(['a.txt']).subarray(0, 40)],
    ['a directory offset past the end', (() => {
      const zip = makeZip(['a.txt']);
      zip.writeUInt32LE(0xffffff, zip.length - 6);
      return zip;
    })()],
    ['too short for an end record', Buffer.from('PK\x03\x04')],
  ])('undefined for %s', (_label, bytes) => {
    expect(zipEntryNames(bytes)).toBeUndefined();
  });
});
