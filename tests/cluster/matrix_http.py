"""A small Client-Server API client for the multi-node tests and the
cross-node latency bench: one access token, usable against any node's URL (or
nginx's), JSON in and out, standard library only."""

from __future__ import annotations

import http.client
import json
import secrets
import time
import urllib.parse

CS = "/_matrix/client/v3"


class HttpError(RuntimeError):
    pass


def request(base_url: str, method: str, path: str, body=None, token: str | None = None,
            timeout: float = 20.0, query: dict | None = None):
    """(status, parsed JSON body or None). Raises OSError when nothing answered."""
    u = urllib.parse.urlsplit(base_url)
    if query:
        path += "?" + urllib.parse.urlencode(query)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        return resp.status, parsed
    finally:
        conn.close()


class Client:
    """One logged-in device. `url` is the default base URL; every call can
    name another (a specific node) with base=."""

    def __init__(self, url: str, user_id: str, token: str, device_id: str):
        self.url, self.user_id, self.token, self.device_id = url, user_id, token, device_id

    # http_timeout is the HTTP client's, so that "timeout" stays free for
    # /sync's query parameter.
    def call(self, method, path, body=None, base=None, http_timeout=20.0, **query):
        return request(base or self.url, method, CS + path, body, self.token, http_timeout,
                       query or None)

    def ok(self, method, path, body=None, base=None, **kwargs):
        status, out = self.call(method, path, body, base=base, **kwargs)
        if status != 200:
            raise HttpError(f"{method} {path} on {base or self.url}: {status} {out}")
        return out

    def sync(self, base=None, **query):
        wait = int(query.get("timeout", 0)) / 1000
        return self.ok("GET", "/sync", base=base, http_timeout=wait + 15, **query)

    def create_room(self, base=None, **extra):
        body = {"preset": "private_chat", **extra}
        return self.ok("POST", "/createRoom", body, base=base)["room_id"]

    def join(self, room_id, base=None):
        return self.ok("POST", f"/join/{urllib.parse.quote(room_id)}", {}, base=base)

    def invite(self, room_id, user_id, base=None):
        return self.ok("POST", f"/rooms/{urllib.parse.quote(room_id)}/invite", {"user_id": user_id},
                       base=base)

    def send_text(self, room_id, text, base=None, txn=None):
        txn = txn or secrets.token_hex(8)
        path = f"/rooms/{urllib.parse.quote(room_id)}/send/m.room.message/{txn}"
        return self.ok("PUT", path, {"msgtype": "m.text", "body": text}, base=base)["event_id"]

    def messages(self, room_id, base=None, limit=100):
        """Every m.room.message event in the room, oldest first (backwards
        pagination until the start)."""
        events, frm = [], None
        while True:
            query = {"dir": "b", "limit": str(limit)}
            if frm:
                query["from"] = frm
            out = self.ok("GET", f"/rooms/{urllib.parse.quote(room_id)}/messages", base=base, **query)
            events.extend(out.get("chunk", []))
            if not out.get("chunk") or not out.get("end") or out.get("end") == frm:
                break
            frm = out["end"]
        return [e for e in reversed(events) if e.get("type") == "m.room.message"]


def register(url: str, name: str | None = None, password: str = "correct horse battery") -> Client:
    name = name or "u" + secrets.token_hex(5)
    body = {"username": name, "password": password, "auth": {"type": "m.login.dummy"}}
    status, out = request(url, "POST", CS + "/register", body)
    if status == 401 and out and "session" in out:
        body["auth"]["session"] = out["session"]
        status, out = request(url, "POST", CS + "/register", body)
    if status != 200:
        raise HttpError(f"register {name} on {url}: {status} {out}")
    return Client(url, out["user_id"], out["access_token"], out["device_id"])


def timeline_events(sync: dict, room_id: str) -> list[dict]:
    room = sync.get("rooms", {}).get("join", {}).get(room_id, {})
    return room.get("timeline", {}).get("events", [])


def wait_until(predicate, timeout: float, interval: float = 0.1):
    """predicate()'s first truthy value, or None after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
