"""Small PNG and JPEG files built with the standard library, and their sizes
read back from the file headers, so the media scenarios need neither binary
fixtures nor an imaging package.

- png(): an RGB (or RGBA) gradient, zlib-compressed (any PNG decoder reads it).
- jpeg(): a baseline greyscale JPEG of flat 8x8 blocks in a 4x4-block
  checkerboard: only DC coefficients, Huffman-coded with the standard
  luminance DC table (ITU T.81 Annex K.3) and a one-symbol AC table (EOB).
- image_size(): ("image/png" | "image/jpeg", width, height) from the header.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, alpha: bool = False) -> bytes:
    bands = 4 if alpha else 3
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            pixel = [x * 255 // width, y * 255 // height, 128]
            if alpha:
                pixel.append(0 if x < width // 2 else 255)  # left half transparent
            rows.extend(pixel)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    assert bands in (3, 4)
    return (PNG_SIGNATURE + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + _png_chunk(b"IEND", b""))


# ITU T.81 Annex K.3, Table K.3: luminance DC code lengths (counts per length
# 1..16) and the categories 0..11 they code.
_DC_COUNTS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
_DC_SYMBOLS = list(range(12))


def _canonical_codes(counts: list[int], symbols: list[int]) -> dict[int, tuple[int, int]]:
    codes, code, i = {}, 0, 0
    for length, count in enumerate(counts, start=1):
        for _ in range(count):
            codes[symbols[i]] = (code, length)
            code += 1
            i += 1
        code <<= 1
    return codes


class _Bits:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> shift) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0x00)  # byte stuffing
                self.acc = self.n = 0

    def flush(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with 1-bits
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(width: int, height: int) -> bytes:
    if width % 8 or height % 8:
        raise ValueError("jpeg(): width and height must be multiples of 8")
    dc_codes = _canonical_codes(_DC_COUNTS, _DC_SYMBOLS)
    bits = _Bits()
    previous = 0
    for by in range(height // 8):
        for bx in range(width // 8):
            level = 200 if (bx // 4 + by // 4) % 2 else 60
            dc = 8 * (level - 128)  # DC of a flat block, quantiser 1
            diff, previous = dc - previous, dc
            category = abs(diff).bit_length()
            code, length = dc_codes[category]
            bits.put(code, length)
            if category:
                bits.put(diff if diff > 0 else diff + (1 << category) - 1, category)
            bits.put(0, 1)  # AC: end of block (the AC table's only code, "0")
    return b"".join([
        b"\xFF\xD8",
        _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        _segment(0xDB, b"\x00" + b"\x01" * 64),
        _segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
        _segment(0xC4, b"\x00" + bytes(_DC_COUNTS) + bytes(_DC_SYMBOLS)),
        _segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),
        _segment(0xDA, b"\x01\x01\x00\x00\x3F\x00"),
        bits.flush(),
        b"\xFF\xD9",
    ])


def image_size(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) from a PNG or JPEG header; ValueError otherwise."""
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(b"\xFF\xD8"):
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                raise ValueError(f"JPEG: no marker at offset {i}")
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return "image/jpeg", width, height
            i += 2 + length
        raise ValueError("JPEG: no SOF marker")
    raise ValueError(f"neither PNG nor JPEG (starts with {data[:8]!r})")
