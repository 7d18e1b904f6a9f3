"""Media across nodes: uploaded through one node (and through nginx), downloaded
through another. The nodes share the media store (S3 through
scripts/lib/s3.sh when media-store-s3 is built, else one directory), so any
node serves any upload."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import urllib.parse
import urllib.request

import pytest
from matrix_http import register

MIB = 1024 * 1024


def upload(base: str, token: str, data: bytes, content_type="application/octet-stream"):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    try:
        conn.request("POST", "/_matrix/media/v3/upload?filename=blob.bin", body=data,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def download(base: str, token: str, mxc: str):
    server, media_id = mxc.removeprefix("mxc://").split("/", 1)
    u = urllib.parse.urlsplit(base)
    # Authenticated media (v1.11) first, then the older unauthenticated route.
    for path in (f"/_matrix/client/v1/media/download/{server}/{media_id}",
                 f"/_matrix/media/v3/download/{server}/{media_id}"):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status != 404 or b"M_UNRECOGNIZED" not in body:
            return resp.status, body
    return resp.status, body


@pytest.fixture(scope="module")
def uploader(cluster):
    user = register(cluster.url)
    status, body = upload(cluster.nodes[0].url, user.token, b"probe")
    if status == 404 and b"M_UNRECOGNIZED" in body:
        pytest.skip("this eltrix has no media API yet")
    assert status == 200, body
    return user


def test_upload_on_one_node_downloads_from_the_others(cluster, uploader):
    data = os.urandom(3 * MIB + 17)
    status, body = upload(cluster.nodes[0].url, uploader.token, data)
    assert status == 200, body
    mxc = json.loads(body)["content_uri"]
    for node in cluster.nodes[1:]:
        status, got = download(node.url, uploader.token, mxc)
        assert status == 200, (node.url, got[:200])
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), node.url


def test_a_large_upload_streams_through_nginx(cluster, uploader):
    """20 MiB through nginx (client_max_body_size, unbuffered), read back
    through nginx, so probably from another node."""
    data = os.urandom(20 * MIB)
    status, body = upload(cluster.url, uploader.token, data)
    assert status == 200, body[:300]
    mxc = json.loads(body)["content_uri"]
    for _ in range(3):  # round-robin: three different nodes
        status, got = download(cluster.url, uploader.token, mxc)
        assert status == 200 and hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def test_every_node_runs_the_runs_media_store(cluster):
    """With S3 configured (run_multinode.sh when media-store-s3 is built), the
    uploads above really went to S3, not to a shared directory."""
    want = cluster.extra_env.get("ELTRIX_MEDIA_STORE", "local")
    for node in cluster.nodes:
        with urllib.request.urlopen(node.url + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
        stores = re.findall(r'^eltrix_plugin_info\{[^}]*kind="media-store",name="([^"]+)"', text, re.M)
        assert stores == [{"local": "fs"}.get(want, want)], stores
