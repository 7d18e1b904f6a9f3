"""Helpers for the media end-to-end tests: uploads and downloads over
urllib, and raw-socket requests for what urllib cannot send (chunked bodies
that go on too long, bodies cut off midway)."""

import json
import socket
import threading
import urllib.parse

from conftest import http

MEDIA_V3 = "/_matrix/media/v3"
MEDIA_V1 = "/_matrix/media/v1"
CLIENT_MEDIA = "/_matrix/client/v1/media"


def auth(client):
    return {"Authorization": f"Bearer {client.token}"}


def upload(client, data, content_type="application/octet-stream", filename=None, path=None):
    """POST /upload (or PUT `path`); (status, parsed JSON body)."""
    url = client.node.url(path or MEDIA_V3 + "/upload")
    if filename is not None:
        url += "?" + urllib.parse.urlencode({"filename": filename})
    headers = auth(client)
    if content_type is not None:
        headers["Content-Type"] = content_type
    status, _, body = http("PUT" if path else "POST", url, body=data, headers=headers, timeout=60)
    return status, json.loads(body) if body else None


def upload_ok(client, data, **kwargs):
    status, out = upload(client, data, **kwargs)
    assert status == 200, out
    assert out["content_uri"].startswith("mxc://")
    return out["content_uri"]


def mxc_parts(uri):
    server, _, media_id = uri[len("mxc://"):].partition("/")
    return server, media_id


def download(node, uri_or_path, client=None, legacy=False, headers=None, raw_path=False):
    """GET a download; (status, headers, body bytes). `uri_or_path` is an
    mxc:// URI or, with raw_path, the path after /download/."""
    if raw_path:
        tail = uri_or_path
    else:
        server, media_id = mxc_parts(uri_or_path)
        tail = f"{server}/{media_id}"
    base = MEDIA_V3 if legacy else CLIENT_MEDIA
    all_headers = dict(headers or {})
    if client is not None:
        all_headers.update(auth(client))
    return http("GET", node.url(f"{base}/download/{tail}"), headers=all_headers, timeout=60)


def error_code(body):
    try:
        return json.loads(body).get("errcode")
    except ValueError:
        return None


def raw_request(node, head, body_parts=(), close_after=False, timeout=15):
    """Sends `head` (request line and headers, without the blank line) and
    the body parts over one socket; returns the response bytes read until the
    server closes (or b"" when close_after: we hang up once the parts are
    sent, without reading). The body is sent from a thread while the answer is
    read, so an early answer (413) is seen even if the server then stops
    reading and resets the connection."""
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=timeout)

    def send():
        try:
            sock.sendall(head.encode() + b"\r\n\r\n")
            for part in body_parts:
                sock.sendall(part)
        except OSError:
            pass  # the server answered early and stopped reading

    try:
        if close_after:
            send()
            return b""
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        sender.join(timeout)
        return b"".join(chunks)
    finally:
        sock.close()


def status_of(response_bytes):
    line = response_bytes.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = line.split(" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def body_of(response_bytes):
    return response_bytes.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in response_bytes else b""
