"""The content repository against the real binary, PostgreSQL and the fs
media store: uploads (direct and asynchronous), downloads with their safety
headers and ranges, the legacy switch, limits and bad input, and what stays
behind (nothing) when an upload fails."""

import hashlib
import json
import os
import re
import secrets
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import Node, base_env, free_port, http, http_json, psql, url_with_db
from cs_client import register
from media_client import (CLIENT_MEDIA, MEDIA_V1, MEDIA_V3, auth, body_of, download, error_code,
                          mxc_parts, raw_request, status_of, upload, upload_ok)

LIMIT_MB = 1
LIMIT = LIMIT_MB * 1024 * 1024
SERVER = "e2e.test"


@pytest.fixture(scope="module")
def media_node(binary, admin_url, tmp_path_factory):
    """One node for the module (starting one per test would dominate the
    run time); each test registers its own users."""
    tmp = tmp_path_factory.mktemp("media")
    name = "e2e_media_" + secrets.token_hex(4)
    psql(admin_url, f"CREATE DATABASE {name}")
    db_url = url_with_db(admin_url, name)
    port = free_port()
    env = base_env(db_url, tmp, port, ELTRIX_REGISTRATION_ENABLED="true",
                   ELTRIX_RATELIMIT_ENABLED="false", ELTRIX_MAX_UPLOAD_SIZE=str(LIMIT_MB),
                   ELTRIX_MEDIA_MAX_PENDING_UPLOADS="3")
    config = tmp / "eltrix.conf"
    config.write_text("")
    node = Node(binary, env, tmp, port, args=["--config", str(config)])
    node.db_url = db_url
    node.media_path = tmp / "media"
    try:
        node.wait_live()
        node.wait_ready()
        yield node
    finally:
        node.stop()
        psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def query(node, sql):
    out = subprocess.run(["psql", node.db_url, "-At", "-c", sql], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def media_rows(node):
    return int(query(node, "SELECT count(*) FROM media"))


def stored_files(node):
    """Every file under the media directory, temporary ones included."""
    return sorted(p for p in Path(node.media_path).rglob("*") if p.is_file())


def temp_files(node):
    return [p for p in stored_files(node) if ".tmp" in p.parts]


def metric(node, name, labels):
    _, _, body = http("GET", node.url("/metrics"))
    pattern = re.escape(name) + r"\{" + re.escape(labels) + r"\} (\S+)"
    found = re.search(pattern, body.decode())
    return float(found.group(1)) if found else 0.0


_users = iter(range(10**6))


@pytest.fixture
def alice(media_node):
    return register(media_node, f"alice{next(_users)}")


@pytest.fixture
def bob(media_node):
    return register(media_node, f"bob{next(_users)}")


def wait_until(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# ---- round trips ---------------------------------------------------------------


def test_upload_and_download_round_trip(media_node, alice, bob):
    data = os.urandom(300_000)
    uploads_before = metric(media_node, "eltrix_media_uploads_total", 'store="fs"')
    bytes_before = metric(media_node, "eltrix_media_uploaded_bytes_total", 'store="fs"')
    down_before = metric(media_node, "eltrix_media_downloaded_bytes_total", 'store="fs"')

    uri = upload_ok(alice, data, content_type="image/png", filename="holiday.png")
    server, media_id = mxc_parts(uri)
    assert server == SERVER
    assert re.fullmatch(r"[A-Za-z0-9]{24}", media_id)

    # Another user fetches it by its mxc:// URI: byte for byte the same.
    status, headers, body = download(media_node, uri, client=bob)
    assert status == 200
    assert body == data
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Length"] == str(len(data))
    assert headers["Content-Disposition"] == \
        "inline; filename=\"holiday.png\"; filename*=UTF-8''holiday.png"
    assert headers["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert headers["Accept-Ranges"] == "bytes"

    # Metadata in PostgreSQL: uploader, type, size, sha256, name, time.
    row = query(media_node, "SELECT uploader, content_type, size, sha256, upload_name, "
                "created_ts > 0 FROM media WHERE media_id = '%s'" % media_id)
    assert row.split("|") == [alice.user_id, "image/png", str(len(data)),
                              hashlib.sha256(data).hexdigest(), "holiday.png", "t"]

    # Legacy unauthenticated paths (on by default), v3 and r0.
    for prefix in (MEDIA_V3, "/_matrix/media/r0"):
        status, _, body = http("GET", media_node.url(f"{prefix}/download/{server}/{media_id}"))
        assert (status, body == data) == (200, True), prefix

    assert metric(media_node, "eltrix_media_uploads_total", 'store="fs"') == uploads_before + 1
    assert metric(media_node, "eltrix_media_uploaded_bytes_total", 'store="fs"') == \
        bytes_before + len(data)
    assert metric(media_node, "eltrix_media_downloaded_bytes_total", 'store="fs"') >= \
        down_before + 3 * len(data)


def test_unsafe_types_are_attachments_with_encoded_names(media_node, alice):
    name = 'naïve "report".html'
    uri = upload_ok(alice, b"<script>alert(1)</script>", content_type="text/html; charset=utf-8",
                    filename=name)
    status, headers, body = download(media_node, uri, client=alice)
    assert status == 200 and body == b"<script>alert(1)</script>"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="na__ve _report_.html"' in disposition
    assert "filename*=UTF-8''na%C3%AFve%20%22report%22.html" in disposition
    assert headers["Content-Security-Policy"].startswith("sandbox;")

    svg = upload_ok(alice, b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                    content_type="image/svg+xml")
    status, headers, _ = download(media_node, svg, client=alice)
    assert status == 200 and headers["Content-Disposition"] == "attachment"

    # No Content-Type at all (urllib would add one): opaque bytes, an attachment.
    response = raw_request(media_node, f"POST {MEDIA_V3}/upload HTTP/1.1\r\nHost: x\r\n"
                           f"Authorization: Bearer {alice.token}\r\nContent-Length: 6\r\n"
                           "Connection: close", [b"opaque"])
    assert status_of(response) == 200, response
    status, headers, body = download(media_node, json.loads(body_of(response))["content_uri"],
                                     client=alice)
    assert body == b"opaque"
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"] == "attachment"


def test_file_name_in_the_path_wins(media_node, alice):
    uri = upload_ok(alice, b"hello", content_type="text/plain", filename="a.txt")
    server, media_id = mxc_parts(uri)
    status, headers, body = download(media_node, f"{server}/{media_id}/r%C3%A9sum%C3%A9.txt",
                                     client=alice, raw_path=True)
    assert (status, body) == (200, b"hello")
    assert headers["Content-Disposition"] == \
        "inline; filename=\"r__sum__.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"


def test_ranges(media_node, alice):
    data = bytes(range(256)) * 40
    uri = upload_ok(alice, data, content_type="video/mp4")
    size = len(data)
    status, headers, body = download(media_node, uri, client=alice,
                                     headers={"Range": "bytes=10-19"})
    assert (status, body) == (206, data[10:20])
    assert headers["Content-Range"] == f"bytes 10-19/{size}"
    assert headers["Content-Length"] == "10"
    status, headers, body = download(media_node, uri, client=alice, headers={"Range": "bytes=-5"})
    assert (status, body) == (206, data[-5:])
    status, headers, body = download(media_node, uri, client=alice,
                                     headers={"Range": f"bytes={size - 3}-"})
    assert (status, body) == (206, data[-3:])
    # Past the end: 416 with the size.
    status, headers, body = download(media_node, uri, client=alice,
                                     headers={"Range": f"bytes={size}-"})
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{size}"
    # Several ranges or another unit: the whole file, 200.
    status, _, body = download(media_node, uri, client=alice,
                               headers={"Range": "bytes=0-1,5-6"})
    assert (status, body) == (200, data)


def test_asynchronous_upload(media_node, alice, bob):
    status, created = http_json("POST", media_node.url(MEDIA_V1 + "/create"), headers=auth(alice))
    assert status == 200, created
    uri = created["content_uri"]
    server, media_id = mxc_parts(uri)
    assert created["unused_expires_at"] > time.time() * 1000

    # Not uploaded yet: 504 M_NOT_YET_UPLOADED once the wait is over.
    status, _, body = http(
        "GET", media_node.url(f"{CLIENT_MEDIA}/download/{server}/{media_id}?timeout_ms=0"),
        headers=auth(bob))
    assert (status, error_code(body)) == (504, "M_NOT_YET_UPLOADED")

    # A download that waits sees the upload that arrives meanwhile.
    waited = {}

    def wait_for_it():
        waited["result"] = http(
            "GET", media_node.url(f"{CLIENT_MEDIA}/download/{server}/{media_id}?timeout_ms=8000"),
            headers=auth(bob), timeout=20)

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    time.sleep(0.5)

    path = f"{MEDIA_V3}/upload/{server}/{media_id}"
    # Only its creator may upload.
    status, out = upload(bob, b"not yours", content_type="text/plain", path=path)
    assert (status, out["errcode"]) == (403, "M_FORBIDDEN")
    status, out = upload(alice, b"async bytes", content_type="text/plain",
                         filename="later.txt", path=path)
    assert (status, out) == (200, {})
    # Only once.
    status, out = upload(alice, b"again", content_type="text/plain", path=path)
    assert (status, out["errcode"]) == (409, "M_CANNOT_OVERWRITE_MEDIA")

    waiter.join()
    status, headers, body = waited["result"]
    assert (status, body) == (200, b"async bytes")
    assert "filename*=UTF-8''later.txt" in headers["Content-Disposition"]

    # Unknown media IDs cannot be uploaded to.
    status, out = upload(alice, b"x", path=f"{MEDIA_V3}/upload/{server}/{'A' * 24}")
    assert (status, out["errcode"]) == (404, "M_NOT_FOUND")


def test_pending_creates_are_bounded(media_node, alice):
    for _ in range(3):
        status, _ = http_json("POST", media_node.url(MEDIA_V1 + "/create"), headers=auth(alice))
        assert status == 200
    status, out = http_json("POST", media_node.url(MEDIA_V1 + "/create"), headers=auth(alice))
    assert (status, out["errcode"]) == (429, "M_LIMIT_EXCEEDED")
    assert out["retry_after_ms"] > 0


# ---- authentication, config, the legacy switch ----------------------------------


def test_authenticated_endpoints_need_a_token(media_node, alice):
    uri = upload_ok(alice, b"secret", content_type="text/plain")
    server, media_id = mxc_parts(uri)
    for path in (f"/download/{server}/{media_id}", f"/download/{server}/{media_id}/x.txt",
                 f"/thumbnail/{server}/{media_id}?width=32&height=32", "/config"):
        status, _, body = http("GET", media_node.url(CLIENT_MEDIA + path))
        assert (status, error_code(body)) == (401, "M_MISSING_TOKEN"), path
    status, _, body = http("POST", media_node.url(MEDIA_V3 + "/upload"), body=b"x",
                           headers={"Content-Type": "text/plain"})
    assert (status, error_code(body)) == (401, "M_MISSING_TOKEN")
    status, out = http_json("POST", media_node.url(MEDIA_V1 + "/create"))
    assert (status, out["errcode"]) == (401, "M_MISSING_TOKEN")


def test_config(media_node, alice):
    for path in (CLIENT_MEDIA + "/config", MEDIA_V3 + "/config", "/_matrix/media/r0/config"):
        status, out = http_json("GET", media_node.url(path), headers=auth(alice))
        assert (status, out) == (200, {"m.upload.size": LIMIT}), path


def test_versions_advertise_v1_11(media_node):
    status, out = http_json("GET", media_node.url("/_matrix/client/versions"))
    assert status == 200 and "v1.11" in out["versions"]


def test_legacy_endpoints_can_be_switched_off(start_node):
    node = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false",
                      ELTRIX_MEDIA_LEGACY_ENDPOINTS="false")
    node.wait_ready()
    user = register(node, "carol")
    uri = upload_ok(user, b"modern only", content_type="text/plain")
    server, media_id = mxc_parts(uri)
    for path in (f"{MEDIA_V3}/download/{server}/{media_id}",
                 f"/_matrix/media/r0/download/{server}/{media_id}",
                 f"{MEDIA_V3}/thumbnail/{server}/{media_id}?width=32&height=32",
                 f"{MEDIA_V3}/config"):
        status, _, body = http("GET", node.url(path), headers=auth(user))
        assert (status, error_code(body)) == (404, "M_UNRECOGNIZED"), path
    status, _, body = download(node, uri, client=user)
    assert (status, body) == (200, b"modern only")


# ---- limits and bad input --------------------------------------------------------


def test_too_large_with_content_length(media_node, alice):
    rows, files = media_rows(media_node), stored_files(media_node)
    status, out = upload(alice, b"x" * (LIMIT + 1), content_type="text/plain")
    assert (status, out["errcode"]) == (413, "M_TOO_LARGE")
    # Exactly the limit is fine.
    upload_ok(alice, b"y" * LIMIT, content_type="text/plain")
    assert media_rows(media_node) == rows + 1
    assert len(stored_files(media_node)) == len(files) + 1


def chunked(parts):
    for part in parts:
        yield b"%x\r\n" % len(part) + part + b"\r\n"
    yield b"0\r\n\r\n"


def test_too_large_without_content_length(media_node, alice):
    rows, files = media_rows(media_node), stored_files(media_node)
    head = (f"POST {MEDIA_V3}/upload HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {alice.token}\r\nContent-Type: text/plain\r\n"
            "Transfer-Encoding: chunked")
    response = raw_request(media_node, head, list(chunked([b"z" * 65536] * 40)))
    assert status_of(response) == 413, response[:300]
    assert json.loads(body_of(response))["errcode"] == "M_TOO_LARGE"
    assert wait_until(lambda: temp_files(media_node) == [])
    assert media_rows(media_node) == rows
    assert stored_files(media_node) == files

    # A chunked body within the limit is stored whole.
    response = raw_request(media_node, head, list(chunked([b"ok" * 1000] * 3)))
    assert status_of(response) == 200, response[:300]
    uri = json.loads(body_of(response))["content_uri"]
    assert download(media_node, uri, client=alice)[2] == b"ok" * 3000


def test_empty_body_and_bad_content_types(media_node, alice):
    rows = media_rows(media_node)
    status, out = upload(alice, b"", content_type="text/plain")
    assert (status, out["errcode"]) == (400, "M_INVALID_PARAM")
    for bad in ("garbage", "text/", "/plain", "te xt/plain", "text/plain/extra"):
        status, out = upload(alice, b"data", content_type=bad)
        assert (status, out["errcode"]) == (400, "M_INVALID_PARAM"), bad
    for bad_name in ("../../etc/passwd", "a/b", "x" * 256, "tab\there"):
        status, out = upload(alice, b"data", content_type="text/plain", filename=bad_name)
        assert (status, out["errcode"]) == (400, "M_INVALID_PARAM"), bad_name
    assert media_rows(media_node) == rows


def test_unknown_and_malformed_media_ids(media_node, alice):
    # The spec fixes only the alphabet [A-Za-z0-9_-] of a media ID, not its
    # length: any well-formed ID is looked up, and an unknown one is 404.
    cases = {
        f"{SERVER}/{'Q' * 24}": (404, "M_NOT_FOUND"),      # our shape, unknown
        f"{SERVER}/short": (404, "M_NOT_FOUND"),           # other lengths too
        f"{SERVER}/a": (404, "M_NOT_FOUND"),
        f"{SERVER}/with-dash_and_underscore": (404, "M_NOT_FOUND"),
        f"{SERVER}/{'Z' * 255}": (404, "M_NOT_FOUND"),
        f"{SERVER}/{'Z' * 256}": (400, "M_INVALID_PARAM"),  # beyond the bound
        f"{SERVER}/{'Q' * 23}!": (400, "M_INVALID_PARAM"),
        f"{SERVER}/a.b": (400, "M_INVALID_PARAM"),
        f"{SERVER}/a%2Bb": (400, "M_INVALID_PARAM"),
        f"other.example/{'Q' * 24}": (404, "M_NOT_FOUND"),  # remote: no federation yet
        f"other.example/remote-ID_of_40_characters_xxxxxxxxxxxxx": (404, "M_NOT_FOUND"),
        f"bad_server!/{'Q' * 24}": (400, "M_INVALID_PARAM"),
    }
    for tail, expected in cases.items():
        status, _, body = download(media_node, tail, client=alice, raw_path=True)
        assert (status, error_code(body)) == expected, tail
        # The thumbnail endpoint checks the same way.
        status, _, body = http(
            "GET", media_node.url(f"{CLIENT_MEDIA}/thumbnail/{tail}?width=32&height=32"),
            headers=auth(alice))
        assert (status, error_code(body)) == expected, "thumbnail " + tail
    # An asynchronous upload to a well-formed ID nobody created is not found.
    for media_id in ("short", "x-y_z", "Q" * 24):
        status, out = upload(alice, b"x", path=f"{MEDIA_V3}/upload/{SERVER}/{media_id}")
        assert (status, out["errcode"]) == (404, "M_NOT_FOUND"), media_id
    status, out = upload(alice, b"x", path=f"{MEDIA_V3}/upload/{SERVER}/a.b")
    assert (status, out["errcode"]) == (400, "M_INVALID_PARAM")
    # IDs this server issues keep their shape.
    server, media_id = mxc_parts(upload_ok(alice, b"shape", content_type="text/plain"))
    assert server == SERVER and re.fullmatch(r"[A-Za-z0-9]{24}", media_id)


def test_path_traversal_gets_nowhere(media_node, alice):
    files = stored_files(media_node)
    attempts = [
        f"{SERVER}/..%2F..%2F..%2Fetc%2Fpasswd",
        f"{SERVER}/%2e%2e",
        f"{SERVER}/%2e%2e/%2e%2e/etc/passwd",
        "..%2F..%2Fetc/passwd",
        f"{SERVER}/{'Q' * 24}%00",
        f"{SERVER}/{'Q' * 24}/..%2F..%2Fsecret",
        f"{SERVER}/{'Q' * 24}/%00name",
        f"{SERVER}/{'A' * 5000}",
        f"{SERVER}/{'Q' * 24}/{'n' * 300}",
        f"..%2F..%2F/{'Q' * 24}",
    ]
    for tail in attempts:
        status, _, body = download(media_node, tail, client=alice, raw_path=True)
        assert status in (400, 404), (tail, status)
        assert error_code(body) in ("M_INVALID_PARAM", "M_NOT_FOUND", "M_UNRECOGNIZED"), tail
    # Upload names and PUT targets too.
    status, out = upload(alice, b"x", path=f"{MEDIA_V3}/upload/{SERVER}/..%2F..%2Fescape")
    assert status == 400, out
    assert stored_files(media_node) == files
    assert http("GET", media_node.url("/health/live"))[0] == 200


def test_truncated_upload_leaves_nothing(media_node, alice):
    rows, files = media_rows(media_node), stored_files(media_node)
    head = (f"POST {MEDIA_V3}/upload HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {alice.token}\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 900000")
    raw_request(media_node, head, [b"a" * 300_000], close_after=True)
    # The server notices the hang-up, removes its temporary file, stores no row.
    time.sleep(0.5)
    assert wait_until(lambda: temp_files(media_node) == [])
    assert media_rows(media_node) == rows
    assert stored_files(media_node) == files
    assert http("GET", media_node.url("/health/live"))[0] == 200

    # Chunked, cut mid-chunk: Poco alone would take this for the end of the body.
    head = (f"POST {MEDIA_V3}/upload HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {alice.token}\r\nContent-Type: application/octet-stream\r\n"
            "Transfer-Encoding: chunked")
    raw_request(media_node, head, [b"%x\r\n" % 200_000 + b"c" * 50_000], close_after=True)
    time.sleep(0.5)
    assert wait_until(lambda: temp_files(media_node) == [])
    assert media_rows(media_node) == rows
    assert stored_files(media_node) == files


def test_file_deleted_behind_the_servers_back(media_node, alice):
    before = set(stored_files(media_node))
    uri = upload_ok(alice, b"short-lived", content_type="text/plain")
    new = set(stored_files(media_node)) - before
    assert len(new) == 1
    new.pop().unlink()
    status, _, body = download(media_node, uri, client=alice)
    assert (status, error_code(body)) == (404, "M_NOT_FOUND")
    assert http("GET", media_node.url("/health/live"))[0] == 200
    assert "media object missing from the store" in media_node.log()
