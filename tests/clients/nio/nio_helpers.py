"""Shared helpers for the matrix-nio scenarios (pytest suite and acceptance.py).

Everything goes through nio's public AsyncClient API, the way a bot or client
written with nio would; the helpers only add clear failure messages and a
bounded "sync until ..." loop.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from typing import Any, Awaitable, Callable, Optional

import nio
from nio.responses import RegisterErrorResponse, WhoamiError, WhoamiResponse

PASSWORD = "correct horse battery staple 1"  # long enough for any sane minimum
ROOM_ID_RE = re.compile(r"^![^:]+:.+$")
EVENT_ID_RE = re.compile(r"^\$.+")

__all__ = [
    "PASSWORD", "ROOM_ID_RE", "EVENT_ID_RE", "Session", "Syncer", "describe", "expect",
    "expect_error", "run", "unique_localpart", "RegisterErrorResponse", "WhoamiError",
    "WhoamiResponse", "timeline", "messages_in", "member_events", "raw",
]


def run(coro: Awaitable, timeout: float = 90.0):
    """Run one scenario coroutine with an overall time limit."""

    async def bounded():
        try:
            return await asyncio.wait_for(coro, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"scenario did not finish within {timeout:.0f}s") from None

    return asyncio.run(bounded())


def unique_localpart(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def http_status(resp) -> Optional[int]:
    transport = getattr(resp, "transport_response", None)
    return getattr(transport, "status", None)


def describe(resp) -> str:
    status = http_status(resp)
    if isinstance(resp, nio.ErrorResponse):
        return (f"{type(resp).__name__}(HTTP {status}, errcode={resp.status_code!r}, "
                f"error={resp.message!r})")
    return f"{type(resp).__name__}(HTTP {status})"


def expect(resp, cls, what: str):
    """Assert that nio parsed the answer as `cls` (a successful response)."""
    if not isinstance(resp, cls) or isinstance(resp, nio.ErrorResponse):
        raise AssertionError(f"{what}: expected {cls.__name__}, got {describe(resp)}")
    return resp


def expect_error(resp, errcode: str, status: int, what: str):
    """Assert a Matrix error response with the given errcode and HTTP status."""
    if not isinstance(resp, nio.ErrorResponse):
        raise AssertionError(f"{what}: expected HTTP {status} {errcode}, but it succeeded: {describe(resp)}")
    if resp.status_code != errcode or http_status(resp) != status:
        raise AssertionError(f"{what}: expected HTTP {status} {errcode}, got {describe(resp)}")
    return resp


def raw(event) -> dict:
    """The event as the server sent it."""
    return getattr(event, "source", None) or {}


def timeline(resp: nio.SyncResponse, room_id: str) -> list:
    info = resp.rooms.join.get(room_id)
    return list(info.timeline.events) if info else []


def messages_in(events) -> list:
    return [e for e in events if raw(e).get("type") == "m.room.message"]


def member_events(events, state_key: str) -> list:
    return [e for e in events
            if raw(e).get("type") == "m.room.member" and raw(e).get("state_key") == state_key]


class Syncer:
    """Incremental /sync for one client: every call continues from the previous
    next_batch, and every response is kept, so a test can check what arrived
    across several syncs (order, duplicates)."""

    def __init__(self, client: nio.AsyncClient, sync_filter: Optional[dict] = None):
        self.client = client
        self.sync_filter = sync_filter
        self.responses: list[nio.SyncResponse] = []

    async def once(self, timeout_ms: int = 1000) -> nio.SyncResponse:
        since = self.client.next_batch
        started = time.monotonic()
        resp = await self.client.sync(timeout=timeout_ms, since=since, sync_filter=self.sync_filter)
        expect(resp, nio.SyncResponse, f"sync for {self.client.user_id} since {since!r}")
        if not isinstance(resp.next_batch, str) or not resp.next_batch:
            raise AssertionError(f"sync for {self.client.user_id}: next_batch is {resp.next_batch!r}")
        self.responses.append(resp)
        # A server that ignores `timeout` would make this loop spin; pace it.
        if time.monotonic() - started < 0.05:
            await asyncio.sleep(0.05)
        return resp

    async def until(self, predicate: Callable[[nio.SyncResponse], Any], what: str,
                    timeout: float = 15.0):
        """Sync until predicate(response) is truthy for a new response; returns
        that value."""
        deadline = time.monotonic() + timeout
        count = 0
        while time.monotonic() < deadline:
            resp = await self.once(timeout_ms=1000)
            count += 1
            value = predicate(resp)
            if value:
                return value
        raise AssertionError(f"{self.client.user_id} did not see {what} within {timeout:.0f}s "
                             f"({count} syncs)")

    def all_timeline(self, room_id: str) -> list:
        return [e for r in self.responses for e in timeline(r, room_id)]


class Session:
    """Creates users and clients against one homeserver and closes them all."""

    def __init__(self, homeserver: str, server_name: Optional[str] = None):
        self.homeserver = homeserver.rstrip("/")
        self.server_name = server_name
        self.clients: list[nio.AsyncClient] = []

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc) -> None:
        for client in self.clients:
            await client.close()

    def client(self, user: str = "") -> nio.AsyncClient:
        config = nio.AsyncClientConfig(
            max_limit_exceeded=0,  # surface 429 instead of sleeping through it
            max_timeouts=0,  # a connection failure is a test failure, not a retry
            request_timeout=30,
            encryption_enabled=False,
            store_sync_tokens=False,
        )
        client = nio.AsyncClient(self.homeserver, user, config=config)
        self.clients.append(client)
        return client

    async def register(self, prefix: str, password: str = PASSWORD) -> tuple[str, str]:
        """Register a new account with nio's register() (it answers the
        m.login.dummy stage itself); returns (localpart, user_id)."""
        localpart = unique_localpart(prefix)
        client = self.client()
        resp = await client.register(localpart, password, device_name=f"nio register {prefix}")
        expect(resp, nio.RegisterResponse, f"register {localpart}")
        if self.server_name is not None:
            assert resp.user_id == f"@{localpart}:{self.server_name}", \
                f"register {localpart}: user_id {resp.user_id!r}, expected @{localpart}:{self.server_name}"
        assert resp.access_token, f"register {localpart}: empty access_token"
        assert resp.device_id, f"register {localpart}: empty device_id"
        return localpart, resp.user_id

    async def login(self, user: str, password: str = PASSWORD,
                    device_name: str = "nio test") -> nio.AsyncClient:
        client = self.client(user)
        resp = await client.login(password, device_name=device_name)
        expect(resp, nio.LoginResponse, f"login as {user}")
        assert resp.access_token and resp.device_id, f"login as {user}: {resp}"
        assert client.logged_in and client.user_id == resp.user_id
        return client

    async def user(self, prefix: str) -> nio.AsyncClient:
        """A newly registered user, logged in with a password on a new device."""
        localpart, _ = await self.register(prefix)
        return await self.login(localpart)

    async def shared_room(self, owner: nio.AsyncClient, guest: nio.AsyncClient,
                          name: str = "test room") -> str:
        """owner creates a private room inviting guest; guest sees the invite
        in /sync and joins. Returns the room ID."""
        resp = await owner.room_create(name=name, invite=[guest.user_id],
                                       preset=nio.RoomPreset.private_chat)
        expect(resp, nio.RoomCreateResponse, f"{owner.user_id} creates a room inviting {guest.user_id}")
        room_id = resp.room_id
        assert ROOM_ID_RE.match(room_id or ""), f"createRoom returned room_id {room_id!r}"
        await Syncer(guest).until(lambda r: room_id in r.rooms.invite,
                                  f"the invite to {room_id} in rooms.invite")
        joined = await guest.join(room_id)
        expect(joined, nio.JoinResponse, f"{guest.user_id} joins {room_id}")
        assert joined.room_id == room_id, f"join answered room_id {joined.room_id!r}, expected {room_id}"
        return room_id

    async def send_text(self, client: nio.AsyncClient, room_id: str, body: str,
                        tx_id: Optional[str] = None) -> str:
        resp = await client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body},
                                      tx_id=tx_id)
        expect(resp, nio.RoomSendResponse, f"{client.user_id} sends {body!r}")
        assert EVENT_ID_RE.match(resp.event_id or ""), f"send returned event_id {resp.event_id!r}"
        return resp.event_id
