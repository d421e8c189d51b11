/** Small synthetic files: just enough leading bytes for each signature. */

const bytes = (...parts: Array<string | number[] | Buffer>): Buffer =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));

const le32 = (value: number): number[] => [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >>> 24];

/** An ISO media file starting with an `ftyp` box of the given major brand. */
const isoMedia = (brand: string): Buffer => bytes([0, 0, 0, 0x18], 'ftyp', brand, [0, 0, 0, 0], 'isommp41');

/** An Ogg first page whose single packet starts with `packet`. */
const ogg = (packet: string): Buffer =>
  bytes('OggS', [0, 2], Buffer.alloc(20), [1, packet.length], packet, Buffer.alloc(8));

/** A ZIP archive of empty stored entries, with a central directory, as any zip tool writes it. */
export function makeZip(names: readonly string[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const file = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(file.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(file.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, file);
    centrals.push(central, file);
    offset += local.length + file.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export const SAMPLES = {
  jpeg: bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF', [0]),
  png: bytes('\x89PNG\r\n\x1a\n', [0, 0, 0, 0x0d], 'IHDR', Buffer.alloc(17)),
  gif87: bytes('GIF87a', [1, 0, 1, 0, 0, 0, 0]),
  gif89: bytes('GIF89a', [1, 0, 1, 0, 0, 0, 0]),
  webp: bytes('RIFF', le32(26), 'WEBPVP8 ', Buffer.alloc(14)),
  wav: bytes('RIFF', le32(36), 'WAVEfmt ', Buffer.alloc(16)),
  bmp: bytes('BM', Buffer.alloc(12), le32(40), Buffer.alloc(36)),
  pdf: bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'),
  mp4: isoMedia('isom'),
  m4a: isoMedia('M4A '),
  threeGp: isoMedia('3gp4'),
  mov: isoMedia('qt  '),
  heic: isoMedia('heic'),
  opus: ogg('OpusHead\x01\x02'),
  vorbis: ogg('\x01vorbis'),
  mp3Id3: bytes('ID3', [4, 0, 0, 0, 0, 0, 0], Buffer.alloc(8)),
  mp3Frame: bytes([0xff, 0xfb, 0x90, 0x64], Buffer.alloc(12)),
  aacAdts: bytes([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc], Buffer.alloc(8)),
  amr: bytes('#!AMR\n', [0x3c], Buffer.alloc(31)),
  amrWb: bytes('#!AMR-WB\n', [0x04], Buffer.alloc(16)),
  zip: makeZip(['notes.txt', 'photos/a.jpg']),
  emptyZip: bytes('PK\x05\x06', Buffer.alloc(18)),
  docx: makeZip(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']),
  xlsx: makeZip(['[Content_Types].xml', 'xl/workbook.xml']),
  pptx: makeZip(['[Content_Types].xml', 'ppt/presentation.xml']),
  /** Bytes no signature claims and that are not text. */
  unknownBinary: bytes([0x00, 0x01, 0x02, 0xfe, 0x42, 0x00, 0x99]),
} as const;
