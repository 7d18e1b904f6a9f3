"""Thumbnails against the real binary, PostgreSQL and the fs store: a PNG and
a JPEG at the standard sizes, reuse of a stored thumbnail, the histogram, and
clear errors for non-images, bombs and bad parameters."""

import base64
import struct
import zlib

import pytest

from conftest import http
from cs_client import register
from media_client import CLIENT_MEDIA, MEDIA_V3, auth, error_code, mxc_parts, upload_ok

# A 160x120 baseline JPEG (made once with libvips: a gradient, quality 30).
JPEG_160x120 = base64.b64decode(
    "/9j/2wBDABsSFBcUERsXFhceHBsgKEIrKCUlKFE6PTBCYFVlZF9VXVtqeJmBanGQc1tdhbWGkJ6jq62rZ4C8ybqm"
    "x5moq6T/2wBDARweHigjKE4rK06kbl1upKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSk"
    "pKSkpKSkpKT/wAARCAB4AKADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA"
    "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0"
    "NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKz"
    "tLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAA"
    "AAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAV"
    "YnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImK"
    "kpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oA"
    "DAMBAAIRAxEAPwDn8UuKdilxXoXITG4p2KXFOxSuWmNxS4p2KXFK5omNxS4p2KXFK5omNxS4p2KXFTctMbinYpcU"
    "7FK5omNxS4p2KXFK5omNxS4p2KXFK5aY3FLinYpcVNzRMTFLilxTsUrmiZmYpcU7FLiui580mNxTsUuKXFK5aYmK"
    "XFOxS4qbmiY3FLinYpcUrmiY3FLinYpcUrlpjcU7FLilxSuaJiYpcU7FLilc0TG4pcU7FLipuWmNxS4p2KXFK5om"
    "NxTsUuKdilctMzMUuKdilxXRc+bTG4pcU7FLilctMTFLinYpcVNzRMbilxTsUuKVzRMbilxTsUuKVy0xuKXFOxS4"
    "pXNExMUuKdilxU3NExuKXFOxS4pXLTG4pcU7FLilc0TG4pcU7FLilctMzcUuKdilxXRc+bTG4pcU7FLipuWmNxTs"
    "UuKdilc0TG4pcU7FLilctMbilxTsUuKVzRMbilxTsUuKm5omNxTsUuKdilctMbilxTsUuKVzRMbilxTsUuKVzRMb"
    "ilxTsUuKm5aZm4pcU7FLiui582mNxS4p2KXFK5aY3FOxS4pcUrmiYmKXFOxS4pXLTG4pcU7FLipuaJjcUuKdilxS"
    "uaJjcU7FLinYpXLTG4pcU7FLilc0TG4pcU7FLipuaJjcUuKdilxSuWmZuKXFOxS4roufNJjcUuKdilxSuaJjcUuK"
    "dilxSuaJiYpcU7FLipuWmNxS4p2KXFK5omNxS4p2KXFK5omNxS4p2KXFK5aYmKXFOxS4qbmiY3FLinYpcUrmiY3F"
    "LinYpcUrlpmbilxTsUuK6LnzSY3FLinYpcUrmiY3FLinYpcVNzRMbinYpcU7FK5aY3FLinYpcUrmiY3FLinYpcUr"
    "miY3FLinYpcVNy0xuKdilxTsUrmiY3FLinYpcUrmiY3FLinYpcUrlpmbilxRRXQfNoXFLiiikaIXFLiiikWhcU7F"
    "FFSaIXFLiiikaIXFLiiikWhcUuKKKRohcU7FFFItC4pcUUVJohcUuKKKRoj/2Q=="
)


def png(width, height, declared=None):
    """An RGB gradient PNG; `declared` overrides the header's size (a bomb's
    header claims far more pixels than the data holds)."""
    rows = b"".join(b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 90))
                                       for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    w, h = declared or (width, height)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def image_size(data):
    if data.startswith(b"\x89PNG"):
        return struct.unpack(">II", data[16:24])
    assert data[:2] == b"\xff\xd8", data[:8]
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no SOF marker")


@pytest.fixture
def node(start_node):
    n = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false",
                   ELTRIX_MEDIA_THUMBNAIL_MAX_PIXELS="4000000")
    n.wait_ready()
    return n


def thumbnail(node, uri, client=None, legacy=False, **params):
    server, media_id = mxc_parts(uri)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    base = MEDIA_V3 if legacy else CLIENT_MEDIA
    return http("GET", node.url(f"{base}/thumbnail/{server}/{media_id}?{query}"),
                headers=auth(client) if client else {})


def metric_value(node, pattern):
    text = http("GET", node.url("/metrics"))[2].decode()
    for line in text.splitlines():
        if line.startswith(pattern + " "):
            return float(line.split()[-1])
    return 0.0


def test_png_and_jpeg_thumbnails_at_standard_sizes(node):
    alice = register(node, "alice")
    bob = register(node, "bob")
    png_uri = upload_ok(alice, png(400, 300), content_type="image/png")
    jpeg_uri = upload_ok(alice, JPEG_160x120, content_type="image/jpeg")

    # crop 50x50 is served at the 96x96 crop size.
    status, headers, body = thumbnail(node, png_uri, bob, width=50, height=50, method="crop")
    assert status == 200, body
    assert headers["Content-Type"] in ("image/png", "image/jpeg")
    assert image_size(body) == (96, 96)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"] == "inline"
    # scale 100x100 -> the 320x240 box, aspect kept.
    status, _, body = thumbnail(node, png_uri, bob, width=100, height=100, method="scale")
    assert status == 200 and image_size(body) == (320, 240)
    # Never larger than the source.
    status, headers, body = thumbnail(node, jpeg_uri, bob, width=640, height=480)
    assert status == 200, body
    assert headers["Content-Type"] == "image/jpeg"
    assert image_size(body) == (160, 120)
    status, _, body = thumbnail(node, jpeg_uri, bob, width=32, height=32, method="crop")
    assert status == 200 and image_size(body) == (32, 32)

    # Legacy unauthenticated path serves the same.
    status, _, legacy_body = thumbnail(node, jpeg_uri, legacy=True, width=32, height=32,
                                       method="crop")
    assert (status, legacy_body) == (200, body)


def test_thumbnails_are_stored_and_reused(node):
    alice = register(node, "alice")
    uri = upload_ok(alice, png(300, 200), content_type="image/png")
    count = 'eltrix_media_thumbnail_seconds_count'
    made_before = metric_value(node, count)
    first = thumbnail(node, uri, alice, width=96, height=96, method="crop")
    assert first[0] == 200
    assert metric_value(node, count) == made_before + 1
    assert metric_value(node, 'eltrix_media_thumbnails_total{result="generated"}') == 1
    second = thumbnail(node, uri, alice, width=90, height=90, method="crop")
    assert (second[0], second[2]) == (200, first[2])
    assert metric_value(node, count) == made_before + 1  # not generated again
    assert metric_value(node, 'eltrix_media_thumbnails_total{result="reused"}') == 1
    assert metric_value(node, 'eltrix_media_uploads_total{store="fs"}') == 2  # image + thumbnail


def test_thumbnail_errors(node):
    alice = register(node, "alice")
    text_uri = upload_ok(alice, b"just some text", content_type="text/plain")
    status, _, body = thumbnail(node, text_uri, alice, width=32, height=32)
    assert (status, error_code(body)) == (400, "M_UNKNOWN")
    assert b"not a JPEG, PNG, GIF or WebP" in body

    # A PNG whose header claims 30000x30000 pixels: refused before decoding.
    bomb = upload_ok(alice, png(8, 8, declared=(30000, 30000)), content_type="image/png")
    status, _, body = thumbnail(node, bomb, alice, width=32, height=32)
    assert (status, error_code(body)) == (413, "M_TOO_LARGE")

    image = upload_ok(alice, png(40, 30), content_type="image/png")
    for params in ({"width": 32}, {"width": "x", "height": 32}, {"width": 0, "height": 32},
                   {"width": 32, "height": -1}, {"width": 32, "height": 32, "method": "zoom"},
                   {"width": 99999, "height": 32}):
        status, _, body = thumbnail(node, image, alice, **params)
        assert status == 400 and error_code(body) in ("M_INVALID_PARAM", "M_MISSING_PARAM"), params
    status, _, body = thumbnail(node, "mxc://e2e.test/" + "Q" * 24, alice, width=32, height=32)
    assert (status, error_code(body)) == (404, "M_NOT_FOUND")
    status, _, body = thumbnail(node, image, None, width=32, height=32)
    assert (status, error_code(body)) == (401, "M_MISSING_TOKEN")
