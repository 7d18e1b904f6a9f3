"""media.store = s3 in running nodes, on the S3 test server scripts/test starts
(s3rver behind the SigV4-checking proxy, ELTRIX_TEST_S3_*):

- a node with a wrong secret key or a missing bucket is not ready, and
  /health/ready names media_store and the S3 error code;
- two nodes on one PostgreSQL and one bucket: media uploaded through one
  downloads byte for byte through the other (one PUT, and a multipart upload),
  and its thumbnail is served by the other;
- switching media.store back to local takes a restart and nothing else.

The media parts skip while the server has no media API (or, for the
thumbnail, no thumbnail endpoint)."""

import hashlib
import json
import os
import secrets
import struct
import time
import urllib.parse
import zlib

import pytest

from conftest import http, http_json
from cs_client import register

MIB = 1024 * 1024


def s3_settings():
    endpoint = os.environ.get("ELTRIX_TEST_S3_ENDPOINT")
    if not endpoint:
        if os.environ.get("CI") == "true":
            pytest.fail("ELTRIX_TEST_S3_ENDPOINT is not set under CI=true (scripts/test starts "
                        "the S3 test server)")
        pytest.skip("ELTRIX_TEST_S3_ENDPOINT is not set (run through scripts/test)")
    return {
        "ELTRIX_MEDIA_STORE": "s3",
        "ELTRIX_S3_ENDPOINT": endpoint,
        "ELTRIX_S3_BUCKET": os.environ.get("ELTRIX_TEST_S3_BUCKET", "eltrix-test"),
        "ELTRIX_S3_REGION": os.environ.get("ELTRIX_TEST_S3_REGION", "us-east-1"),
        "ELTRIX_S3_ACCESS_KEY": os.environ.get("ELTRIX_TEST_S3_ACCESS_KEY", "S3RVER"),
        "ELTRIX_S3_SECRET_KEY": os.environ.get("ELTRIX_TEST_S3_SECRET_KEY", "S3RVER"),
        "ELTRIX_S3_PART_SIZE_MB": "5",
        # Objects of this test run only.
        "ELTRIX_S3_PREFIX": f"e2e-{secrets.token_hex(6)}/",
    }


@pytest.fixture
def s3():
    return s3_settings()


def checked_media_store(node, timeout=20):
    """/health/ready's status and body once the media store has been checked."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = http_json("GET", node.url("/health/ready"), timeout=5)
        media = ((body or {}).get("components") or {}).get("media_store") or {}
        if media.get("checked_at") or time.monotonic() > deadline:
            return status, body, media
        time.sleep(0.1)


def test_wrong_secret_key_makes_the_node_unready_naming_the_s3_error(start_node, s3):
    node = start_node(**{**s3, "ELTRIX_S3_SECRET_KEY": "not-the-secret"})
    status, body, media = checked_media_store(node)
    assert status == 503, body
    assert "media_store" in body["failed"], body
    assert media["status"] == "failed", media
    assert "SignatureDoesNotMatch" in media["detail"], media
    assert "not-the-secret" not in str(body)
    assert "s3_error=SignatureDoesNotMatch" in node.log()
    assert "not-the-secret" not in node.log()


def test_missing_bucket_makes_the_node_unready_naming_the_s3_error(start_node, s3):
    node = start_node(**{**s3, "ELTRIX_S3_BUCKET": "no-such-bucket"})
    status, body, media = checked_media_store(node)
    assert status == 503, body
    assert "media_store" in body["failed"], body
    assert "NoSuchBucket" in media["detail"], media


def test_a_good_configuration_is_ready_and_counts_requests(start_node, s3):
    node = start_node(**s3)
    node.wait_ready(expected=200)
    status, _, metrics = http("GET", node.url("/metrics"))
    assert status == 200
    text = metrics.decode()
    assert 'eltrix_media_s3_requests_total{op="list_bucket",status="2xx"}' in text
    assert "eltrix_media_s3_connections_max 32" in text


def upload(client, data, content_type="application/octet-stream"):
    status, headers, body = http(
        "POST", client.node.url("/_matrix/media/v3/upload?filename=blob.bin"), body=data,
        headers={"Authorization": f"Bearer {client.token}", "Content-Type": content_type},
        timeout=60)
    return status, body


def download(client, mxc):
    server, media_id = mxc.removeprefix("mxc://").split("/", 1)
    path = f"/_matrix/client/v1/media/download/{urllib.parse.quote(server)}/{media_id}"
    status, _, body = http("GET", client.node.url(path),
                           headers={"Authorization": f"Bearer {client.token}"}, timeout=60)
    return status, body


def require_media_api(client):
    status, body = upload(client, b"probe", "text/plain")
    if status == 404 and b"M_UNRECOGNIZED" in body:
        pytest.skip("this eltrix has no media API yet")
    assert status == 200, body
    return body


def test_two_nodes_share_media_through_s3(start_node, s3):
    common = {**s3, "ELTRIX_REGISTRATION_ENABLED": "true", "ELTRIX_RATELIMIT_ENABLED": "false"}
    first = start_node(**common)
    second = start_node(**common)
    first.wait_ready()
    second.wait_ready()
    alice = register(first, "alice")
    require_media_api(alice)
    bob = register(second, "bob")

    for size in (70 * 1024, 12 * MIB + 3):  # one PUT; a multipart upload
        data = os.urandom(size)
        status, body = upload(alice, data)
        assert status == 200, body
        mxc = json.loads(body)["content_uri"]
        status, back = download(bob, mxc)
        assert status == 200, back[:200]
        assert len(back) == size
        assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()


def png(width, height):
    """An RGB PNG with a colour gradient, built with the standard library."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
        for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def test_thumbnail_of_an_s3_upload_from_the_other_node(start_node, s3):
    common = {**s3, "ELTRIX_REGISTRATION_ENABLED": "true", "ELTRIX_RATELIMIT_ENABLED": "false"}
    first = start_node(**common)
    second = start_node(**common)
    first.wait_ready()
    second.wait_ready()
    alice = register(first, "alice")
    require_media_api(alice)
    bob = register(second, "bob")
    status, body = upload(alice, png(320, 240), "image/png")
    assert status == 200, body
    server, media_id = json.loads(body)["content_uri"].removeprefix("mxc://").split("/", 1)
    path = (f"/_matrix/client/v1/media/thumbnail/{urllib.parse.quote(server)}/{media_id}"
            "?width=64&height=64&method=scale")
    status, headers, thumb = http("GET", second.url(path),
                                  headers={"Authorization": f"Bearer {bob.token}"}, timeout=60)
    if status == 404 and b"M_UNRECOGNIZED" in thumb:
        pytest.skip("this eltrix has no thumbnail endpoint yet")
    assert status == 200, thumb[:200]
    # A PNG or a JPEG no larger than the original (which sizes the server
    # picks is the thumbnail tests' business; this one is about the store).
    assert thumb[:8] == b"\x89PNG\r\n\x1a\n" or thumb[:2] == b"\xff\xd8", thumb[:16]
    if thumb[:8] == b"\x89PNG\r\n\x1a\n":
        width, height = struct.unpack(">II", thumb[16:24])
        assert width <= 320 and height <= 240, (width, height)


def test_switching_back_to_local_takes_only_a_restart(start_node, s3, tmp_path):
    common = {"ELTRIX_REGISTRATION_ENABLED": "true", "ELTRIX_RATELIMIT_ENABLED": "false"}
    node = start_node(**s3, **common)
    node.wait_ready()
    alice = register(node, "alice")
    require_media_api(alice)
    node.stop()

    local = start_node(**common, ELTRIX_MEDIA_STORE="local",
                       ELTRIX_MEDIA_PATH=str(tmp_path / "local-media"))
    local.wait_ready()
    alice.node = local
    data = os.urandom(100 * 1024)
    status, body = upload(alice, data)
    assert status == 200, body
    status, back = download(alice, json.loads(body)["content_uri"])
    assert status == 200
    assert back == data
    assert any((tmp_path / "local-media").rglob("*")), "the upload did not go to media.path"
