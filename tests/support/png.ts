import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Decodes a PNG far enough to prove it is whole: the signature, every
 * chunk's CRC, the IHDR, and image data that inflates to exactly one
 * filtered scanline per row. Throws on any defect.
 */
export function decodePng(png: Buffer): { width: number; height: number } {
  if (!png.subarray(0, 8).equals(SIGNATURE)) {
    throw new Error('not a PNG: bad signature');
  }
  let offset = 8;
  let header: { width: number; height: number; bitDepth: number; colorType: number } | undefined;
  const data: Buffer[] = [];
  let ended = false;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    const crc = png.readUInt32BE(offset + 8 + length);
    if (crc32(png.subarray(offset + 4, offset + 8 + length)) !== crc) {
      throw new Error(`PNG chunk ${type} has a bad CRC`);
    }
    if (type === 'IHDR') {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), bitDepth: body[8]!, colorType: body[9]! };
    }
    if (type === 'IDAT') {
      data.push(body);
    }
    if (type === 'IEND') {
      ended = true;
    }
    offset += 12 + length;
  }
  if (!header || !ended || data.length === 0) {
    throw new Error('PNG lacks IHDR, IDAT or IEND');
  }
  const channels = CHANNELS[header.colorType];
  if (channels === undefined || header.width === 0 || header.height === 0) {
    throw new Error('PNG header is invalid');
  }
  const rowBytes = Math.ceil((header.width * channels * header.bitDepth) / 8);
  const pixels = inflateSync(Buffer.concat(data));
  if (pixels.length !== header.height * (rowBytes + 1)) {
    throw new Error('PNG image data does not match its size');
  }
  return { width: header.width, height: header.height };
}
