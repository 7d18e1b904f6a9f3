"""Media through matrix-nio: one user uploads files (AsyncClient.upload) and
posts them to a room as m.file / m.image events; the other user takes the mxc
URI from the event, downloads it byte for byte (AsyncClient.download) and
fetches thumbnails of a PNG and a JPEG (AsyncClient.thumbnail). nio 0.20
speaks the unauthenticated /_matrix/media/r0 endpoints, which stay on by
default for such clients (media.legacy_endpoints)."""

from __future__ import annotations

import hashlib
import os

import nio

from image_files import image_size, jpeg, png
from nio_helpers import Session, Syncer, describe, expect, http_status, raw, run


async def upload(client: nio.AsyncClient, data: bytes, content_type: str, filename: str) -> str:
    resp, keys = await client.upload(lambda *_: data, content_type=content_type, filename=filename,
                                     filesize=len(data))
    expect(resp, nio.UploadResponse, f"{client.user_id} uploads {filename} ({len(data)} bytes)")
    assert keys is None, "unencrypted upload returned decryption keys"
    assert resp.content_uri.startswith("mxc://"), f"upload content_uri {resp.content_uri!r}"
    return resp.content_uri


def split_mxc(uri: str) -> tuple[str, str]:
    server_name, _, media_id = uri[len("mxc://"):].partition("/")
    assert server_name and media_id, f"malformed mxc URI {uri!r}"
    return server_name, media_id


async def post_media(client: nio.AsyncClient, room_id: str, msgtype: str, uri: str, data: bytes,
                     content_type: str, filename: str, **info) -> str:
    content = {"msgtype": msgtype, "body": filename, "url": uri,
               "info": {"mimetype": content_type, "size": len(data), **info}}
    resp = await client.room_send(room_id, "m.room.message", content)
    expect(resp, nio.RoomSendResponse, f"send {msgtype} {filename}")
    return resp.event_id


async def download(client: nio.AsyncClient, uri: str, what: str) -> nio.DownloadResponse:
    resp = await client.download(mxc=uri)
    return expect(resp, nio.DownloadResponse, f"{client.user_id} downloads {what} ({uri})")


async def thumbnail(client: nio.AsyncClient, uri: str, width: int, height: int,
                    method: nio.ResizingMethod):
    server_name, media_id = split_mxc(uri)
    return await client.thumbnail(server_name, media_id, width, height, method=method)


async def share_files(s: Session, files: dict) -> tuple[nio.AsyncClient, nio.AsyncClient, dict]:
    """alice uploads `files` ({name: (bytes, content type, msgtype, info)}) and
    posts each to a room with bob; returns (alice, bob, {name: mxc URI as bob
    received it in the event})."""
    alice = await s.user("alice")
    bob = await s.user("bob")
    room_id = await s.shared_room(alice, bob, name="media")
    bob_sync = Syncer(bob)
    await bob_sync.until(lambda r: room_id in r.rooms.join, f"{room_id} in rooms.join")

    uris, events = {}, {}
    for name, (data, content_type, msgtype, info) in files.items():
        uris[name] = await upload(alice, data, content_type, name)
        assert split_mxc(uris[name])[0] == s.server_name, uris[name]
        events[name] = await post_media(alice, room_id, msgtype, uris[name], data, content_type, name, **info)
    assert len(set(uris.values())) == len(files), f"media IDs are not unique: {uris}"

    # bob learns the URIs from the events, as a client does.
    wanted = set(events.values())
    seen = await bob_sync.until(
        lambda r: (lambda got: got if wanted <= set(got) else None)(
            {raw(e)["event_id"]: e for e in bob_sync.all_timeline(room_id)}),
        f"alice's {len(files)} media events")
    received = {}
    for name, (_, _, msgtype, _) in files.items():
        event = seen[events[name]]
        expected_class = nio.RoomMessageImage if msgtype == "m.image" else nio.RoomMessageFile
        assert isinstance(event, expected_class), f"nio parsed {name}'s event as {type(event).__name__}: {raw(event)}"
        received[name] = event.url
        assert received[name] == uris[name], f"{name}: the event's url {event.url!r}, uploaded {uris[name]!r}"
    return alice, bob, received


def test_uploaded_files_reach_the_other_user_byte_for_byte(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            files = {
                # name: (bytes, content type, msgtype, extra info)
                "notes.bin": (os.urandom(300_000) + bytes(range(256)), "application/octet-stream",
                              "m.file", {}),
                "photo.jpg": (jpeg(640, 480), "image/jpeg", "m.image", {"w": 640, "h": 480}),
                "logo.png": (png(400, 300, alpha=True), "image/png", "m.image", {"w": 400, "h": 300}),
            }
            _, bob, uris = await share_files(s, files)
            for name, (data, content_type, _, _) in files.items():
                got = await download(bob, uris[name], name)
                assert hashlib.sha256(got.body).hexdigest() == hashlib.sha256(data).hexdigest(), \
                    f"{name}: downloaded {len(got.body)} bytes differ from the {len(data)} uploaded"
                assert got.content_type.split(";")[0].strip() == content_type, \
                    f"{name}: Content-Type {got.content_type!r}, uploaded as {content_type!r}"
                assert got.filename == name, f"{name}: download filename {got.filename!r}"

    run(scenario(), timeout=120)


def test_thumbnails_of_a_png_and_a_jpeg(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            files = {
                "photo.jpg": (jpeg(640, 480), "image/jpeg", "m.image", {"w": 640, "h": 480}),
                "logo.png": (png(400, 300, alpha=True), "image/png", "m.image", {"w": 400, "h": 300}),
                "notes.txt": (b"not an image\n" * 100, "text/plain", "m.file", {}),
            }
            alice, bob, uris = await share_files(s, files)
            # The standard sizes come back at the expected size and format
            # (PNG stays PNG so that alpha survives; JPEG stays JPEG).
            cases = [
                ("photo.jpg", 320, 240, nio.ResizingMethod.scale, ("image/jpeg", 320, 240)),
                ("photo.jpg", 96, 96, nio.ResizingMethod.crop, ("image/jpeg", 96, 96)),
                # between standard sizes: the next larger one is served
                ("photo.jpg", 50, 50, nio.ResizingMethod.crop, ("image/jpeg", 96, 96)),
                ("logo.png", 320, 240, nio.ResizingMethod.scale, ("image/png", 320, 240)),
                ("logo.png", 32, 32, nio.ResizingMethod.crop, ("image/png", 32, 32)),
                # never upscaled: the 400x300 original fits 800x600 as it is
                ("logo.png", 800, 600, nio.ResizingMethod.scale, ("image/png", 400, 300)),
            ]
            for name, width, height, method, expected in cases:
                what = f"{name} thumbnail {width}x{height} {method.value}"
                resp = expect(await thumbnail(bob, uris[name], width, height, method), nio.ThumbnailResponse, what)
                assert image_size(resp.body) == expected, f"{what}: got {image_size(resp.body)}"
                assert resp.content_type.split(";")[0].strip() == expected[0], \
                    f"{what}: Content-Type {resp.content_type!r}"
                # Asked again (by the uploader this time): the same thumbnail.
                again = expect(await thumbnail(alice, uris[name], width, height, method),
                               nio.ThumbnailResponse, what + " again")
                assert again.body == resp.body, f"{what}: a second request gave different bytes"

            # A thumbnail of a file that is not an image is a clear error.
            resp = await thumbnail(bob, uris["notes.txt"], 96, 96, nio.ResizingMethod.crop)
            assert isinstance(resp, nio.ThumbnailError), f"thumbnail of a non-image: {describe(resp)}"
            assert http_status(resp) == 400, f"thumbnail of a non-image: {describe(resp)}"
            # nio 0.20 keeps no errcode for thumbnail errors; read the JSON body.
            body = await resp.transport_response.json()
            assert body.get("errcode") == "M_UNKNOWN" and "thumbnail" in body.get("error", ""), \
                f"thumbnail of a non-image: body {body}"

    run(scenario(), timeout=120)


def test_download_of_unknown_media_is_not_found(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            bob = await s.user("bob")
            resp = await bob.download(mxc=f"mxc://{server.server_name}/AAAAAAAAAAAAAAAAAAAAAAAA")
            assert isinstance(resp, nio.DownloadError), f"download of unknown media: {describe(resp)}"
            assert http_status(resp) == 404 and resp.status_code == "M_NOT_FOUND", describe(resp)

    run(scenario())
