#!/usr/bin/python3
"""Walk through what a new Matrix user does, with matrix-nio, against a running
Eltrix, and say which step breaks.

    ELTRIX_REGISTRATION_ENABLED=true scripts/run          # in one terminal
    /usr/bin/python3 tests/clients/nio/acceptance.py      # in another

Options: --homeserver URL (default $ELTRIX_URL or http://127.0.0.1:8008).
The server must allow registration (ELTRIX_REGISTRATION_ENABLED=true); with the
default rate limits the script stays within the login and registration bursts.
Exit status 0 when every step passed, 1 at the first failing step.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nio  # noqa: E402

from image_files import image_size, jpeg  # noqa: E402
from nio_helpers import (Session, Syncer, expect, expect_error, member_events, messages_in,  # noqa: E402
                         raw, timeline)


class Steps:
    def __init__(self):
        self.number = 0
        self.started = time.monotonic()

    def __call__(self, title: str):
        self.number += 1
        print(f"[{self.number:2d}] {title} ...", end=" ", flush=True)
        return self

    def __enter__(self):
        self.t0 = time.monotonic()

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            print(f"ok ({(time.monotonic() - self.t0) * 1000:.0f} ms)", flush=True)
            return False
        print("FAILED", flush=True)
        print(f"\n     {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return False


async def walkthrough(homeserver: str) -> None:
    step = Steps()
    async with Session(homeserver) as s:
        with step("the server answers /_matrix/client/versions"):
            probe = s.client()
            resp = await probe.send("GET", "/_matrix/client/versions")
            assert resp.status == 200, f"HTTP {resp.status}: {(await resp.text())[:200]}"
            versions = (await resp.json()).get("versions", [])
            assert versions, "no versions listed"

        with step("register alice and bob (m.login.dummy)"):
            alice_local, alice_id = await s.register("alice")
            bob_local, bob_id = await s.register("bob")

        with step("both log in with their passwords"):
            alice = await s.login(alice_local, device_name="acceptance alice")
            bob = await s.login(bob_local, device_name="acceptance bob")

        with step("alice creates a room and invites bob; bob sees the invite and joins"):
            room_id = await s.shared_room(alice, bob, name="Acceptance")

        bob_sync = Syncer(bob)
        alice_sync = Syncer(alice)
        with step("alice sends three messages; bob's sync gets them in order"):
            await bob_sync.until(lambda r: room_id in r.rooms.join, "the room in rooms.join")
            await alice_sync.once(timeout_ms=0)
            sent = [await s.send_text(alice, room_id, f"hello {i}") for i in range(3)]
            await bob_sync.until(
                lambda r: set(sent) <= {raw(e).get("event_id") for e in bob_sync.all_timeline(room_id)},
                "all three messages")
            got = [raw(e)["event_id"] for e in messages_in(bob_sync.all_timeline(room_id))]
            assert got == sent, f"got {got}, sent {sent}"

        with step("bob pages back through the room history"):
            page = await bob.room_messages(room_id, start=bob.next_batch, direction=nio.MessageDirection.back,
                                           limit=50)
            expect(page, nio.RoomMessagesResponse, "/messages")
            types = [raw(e).get("type") for e in page.chunk]
            assert "m.room.create" in types, f"history does not reach m.room.create: {types}"
            got = [raw(e)["event_id"] for e in reversed(page.chunk) if raw(e).get("type") == "m.room.message"]
            assert got == sent, f"history has {got}, sent {sent}"

        with step("alice uploads a photo and posts it; bob downloads it byte for byte"):
            photo = jpeg(640, 480)
            up, _ = await alice.upload(lambda *_: photo, content_type="image/jpeg", filename="photo.jpg",
                                       filesize=len(photo))
            expect(up, nio.UploadResponse, "upload photo.jpg")
            posted = await alice.room_send(room_id, "m.room.message", {
                "msgtype": "m.image", "body": "photo.jpg", "url": up.content_uri,
                "info": {"mimetype": "image/jpeg", "size": len(photo), "w": 640, "h": 480}})
            expect(posted, nio.RoomSendResponse, "send the m.image event")
            image = await bob_sync.until(
                lambda r: next((e for e in timeline(r, room_id) if raw(e).get("event_id") == posted.event_id),
                               None), "the m.image event")
            assert isinstance(image, nio.RoomMessageImage), f"nio parsed {raw(image)}"
            got = expect(await bob.download(mxc=image.url), nio.DownloadResponse, "download photo.jpg")
            assert got.body == photo, f"downloaded {len(got.body)} bytes differ from the {len(photo)} uploaded"

        with step("bob fetches a 320x240 thumbnail of the photo"):
            server_name, _, media_id = image.url[len("mxc://"):].partition("/")
            thumb = await bob.thumbnail(server_name, media_id, 320, 240, method=nio.ResizingMethod.scale)
            expect(thumb, nio.ThumbnailResponse, "thumbnail 320x240 of photo.jpg")
            assert image_size(thumb.body) == ("image/jpeg", 320, 240), f"thumbnail is {image_size(thumb.body)}"

        with step("alice types; bob sees it"):
            expect(await alice.room_typing(room_id, True, timeout=10000), nio.RoomTypingResponse, "typing")
            await bob_sync.until(
                lambda r: any(isinstance(e, nio.TypingNoticeEvent) and alice_id in e.users
                              for e in (r.rooms.join[room_id].ephemeral if room_id in r.rooms.join else [])),
                "alice typing")

        with step("bob sends a read receipt; alice sees it"):
            expect(await bob.update_receipt_marker(room_id, sent[-1]), nio.UpdateReceiptMarkerResponse, "receipt")
            await alice_sync.until(
                lambda r: any(isinstance(e, nio.ReceiptEvent)
                              and any(rc.user_id == bob_id and rc.event_id == sent[-1] for rc in e.receipts)
                              for e in (r.rooms.join[room_id].ephemeral if room_id in r.rooms.join else [])),
                "bob's receipt")

        with step("bob changes his display name; alice sees it"):
            expect(await bob.set_displayname("Bob B."), nio.ProfileSetDisplayNameResponse, "set_displayname")
            await alice_sync.until(
                lambda r: any(raw(e)["content"].get("displayname") == "Bob B."
                              for e in member_events(timeline(r, room_id), bob_id)),
                "the new display name")

        with step("bob leaves; alice sees him go"):
            expect(await bob.room_leave(room_id), nio.RoomLeaveResponse, "leave")
            await alice_sync.until(
                lambda r: any(raw(e)["content"].get("membership") == "leave"
                              for e in member_events(timeline(r, room_id), bob_id)),
                "bob's leave")

        with step("alice bans bob; bob cannot rejoin"):
            expect(await alice.room_ban(room_id, bob_id, reason="acceptance"), nio.RoomBanResponse, "ban")
            expect_error(await bob.join(room_id), "M_FORBIDDEN", 403, "rejoin after ban")

        with step("alice logs out; her token stops working"):
            token, device = alice.access_token, alice.device_id
            expect(await alice.logout(), nio.LogoutResponse, "logout")
            stale = s.client(alice_local)
            stale.restore_login(alice_id, device, token)
            from nio.responses import WhoamiError
            resp = await stale.whoami()
            assert isinstance(resp, WhoamiError), f"whoami with a logged-out token: {resp}"
            expect_error(resp, "M_UNKNOWN_TOKEN", 401, "whoami after logout")

    print(f"\nall {step.number} steps passed in {time.monotonic() - step.started:.1f}s")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--homeserver", default=os.environ.get("ELTRIX_URL", "http://127.0.0.1:8008"))
    p.add_argument("--timeout", type=float, default=120, help="seconds for the whole walk-through")
    args = p.parse_args()
    print(f"acceptance walk-through against {args.homeserver}\n")
    try:
        asyncio.run(asyncio.wait_for(walkthrough(args.homeserver), args.timeout))
    except asyncio.TimeoutError:
        print(f"\ngave up after {args.timeout:.0f}s", file=sys.stderr)
        return 1
    except (AssertionError, nio.LocalProtocolError, OSError) as e:
        if not isinstance(e, AssertionError):
            print(f"\n{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
