// Small PNG and JPEG files built with Node's standard library, and their sizes
// read back from the file headers, so the media scenarios need neither binary
// fixtures nor an imaging package (the same files as tests/clients/nio/image_files.py).
//
// - png(): an RGB (or RGBA, left half transparent) gradient, zlib-compressed.
// - jpeg(): a baseline greyscale JPEG of flat 8x8 blocks in a 4x4-block
//   checkerboard: only DC coefficients, coded with the standard luminance DC
//   Huffman table (ITU T.81 Annex K.3) and a one-symbol AC table (EOB).
// - imageSize(): { type: "image/png" | "image/jpeg", width, height }.

import { deflateSync, crc32 as zlibCrc32 } from "node:zlib";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// zlib.crc32 arrived in Node 20.15/22.2; a table-driven fallback for older 20.x.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  if (zlibCrc32) return zlibCrc32(bytes);
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(kind, data) {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(kind, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, crc]);
}

export function png(width, height, { alpha = false } = {}) {
  const bands = alpha ? 4 : 3;
  const rows = Buffer.alloc(height * (1 + width * bands));
  let i = 0;
  for (let y = 0; y < height; y++) {
    rows[i++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      rows[i++] = Math.floor((x * 255) / width);
      rows[i++] = Math.floor((y * 255) / height);
      rows[i++] = 128;
      if (alpha) rows[i++] = x < Math.floor(width / 2) ? 0 : 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, alpha ? 6 : 2, 0, 0, 0], 8);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(rows, { level: 9 })),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

// ITU T.81 Annex K.3, Table K.3: luminance DC code counts per length 1..16.
const DC_COUNTS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_SYMBOLS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

function canonicalCodes(counts, symbols) {
  const codes = new Map();
  let code = 0;
  let i = 0;
  counts.forEach((count, index) => {
    for (let n = 0; n < count; n++) codes.set(symbols[i++], [code++, index + 1]);
    code <<= 1;
  });
  return codes;
}

class Bits {
  constructor() {
    this.out = [];
    this.acc = 0;
    this.n = 0;
  }
  put(value, length) {
    for (let shift = length - 1; shift >= 0; shift--) {
      this.acc = (this.acc << 1) | ((value >> shift) & 1);
      if (++this.n === 8) {
        this.out.push(this.acc);
        if (this.acc === 0xff) this.out.push(0x00); // byte stuffing
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  flush() {
    if (this.n) this.put((1 << (8 - this.n)) - 1, 8 - this.n); // pad with 1-bits
    return Buffer.from(this.out);
  }
}

function segment(marker, payload) {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, Buffer.from(payload)]);
}

export function jpeg(width, height) {
  if (width % 8 || height % 8) throw new Error("jpeg(): width and height must be multiples of 8");
  const dcCodes = canonicalCodes(DC_COUNTS, DC_SYMBOLS);
  const bits = new Bits();
  let previous = 0;
  for (let by = 0; by < height / 8; by++) {
    for (let bx = 0; bx < width / 8; bx++) {
      const level = (Math.floor(bx / 4) + Math.floor(by / 4)) % 2 ? 200 : 60;
      const dc = 8 * (level - 128); // DC of a flat block, quantiser 1
      const diff = dc - previous;
      previous = dc;
      const category = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      const [code, length] = dcCodes.get(category);
      bits.put(code, length);
      if (category) bits.put(diff > 0 ? diff : diff + (1 << category) - 1, category);
      bits.put(0, 1); // AC: end of block (the AC table's only code, "0")
    }
  }
  const sof = Buffer.alloc(9);
  sof.writeUInt8(8, 0);
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof.set([1, 1, 0x11, 0], 5);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, Buffer.from("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", "latin1")),
    segment(0xdb, Buffer.from([0, ...new Array(64).fill(1)])),
    segment(0xc0, sof),
    segment(0xc4, Buffer.from([0x00, ...DC_COUNTS, ...DC_SYMBOLS])),
    segment(0xc4, Buffer.from([0x10, 1, ...new Array(15).fill(0), 0x00])),
    segment(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0])),
    bits.flush(),
    Buffer.from([0xff, 0xd9]),
  ]);
}

export function imageSize(data) {
  const buf = Buffer.from(data);
  if (buf.subarray(0, 8).equals(PNG_SIGNATURE) && buf.toString("latin1", 12, 16) === "IHDR") {
    return { type: "image/png", width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  }
  if (buf[0] === 0xff && buf[1] === 0xd8) {
    let i = 2;
    while (i + 4 <= buf.length) {
      if (buf[i] !== 0xff) throw new Error(`JPEG: no marker at offset ${i}`);
      const marker = buf[i + 1];
      if (marker === 0xff) {
        i += 1;
        continue;
      }
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { type: "image/jpeg", width: buf.readUInt16BE(i + 7), height: buf.readUInt16BE(i + 5) };
      }
      i += 2 + buf.readUInt16BE(i + 2);
    }
    throw new Error("JPEG: no SOF marker");
  }
  throw new Error(`neither PNG nor JPEG (starts with ${buf.subarray(0, 8).toString("hex")})`);
}
