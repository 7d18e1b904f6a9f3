"""Plain-HTTP helpers for the bad-input suite (urllib / http.client only)."""

from __future__ import annotations

import http.client
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request

CS = "/_matrix/client/v3"
PASSWORD = "correct horse battery staple 2"


class Reply:
    """One HTTP answer: status, headers, raw body and (when it parses) JSON."""

    def __init__(self, method: str, path: str, status: int, headers: dict, body: bytes):
        self.method, self.path, self.status, self.headers, self.body = method, path, status, headers, body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self) -> str:
        return f"{self.method} {self.path} -> HTTP {self.status} {self.body[:300]!r}"

    def ok(self, what: str = "") -> dict:
        assert self.status == 200, f"{what or 'request'}: expected HTTP 200, got {self!r}"
        assert isinstance(self.json, dict), f"{what}: 200 without a JSON object: {self!r}"
        return self.json

    def error(self, status: int, errcode: str | set[str], what: str = "") -> dict:
        """Assert a standard Matrix error response (JSON object with errcode and error)."""
        codes = {errcode} if isinstance(errcode, str) else set(errcode)
        want = f"HTTP {status} {'/'.join(sorted(codes))}"
        assert self.status == status and isinstance(self.json, dict) and self.json.get("errcode") in codes, \
            f"{what or 'request'}: expected {want}, got {self!r}"
        ctype = self.headers.get("content-type", "")
        assert ctype.split(";")[0].strip() == "application/json", f"{what}: error with Content-Type {ctype!r}"
        assert isinstance(self.json.get("error"), str), f"{what}: error response without an 'error' string: {self.json}"
        return self.json


class Api:
    def __init__(self, base: str):
        self.base = base
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port

    def request(self, method: str, path: str, body=None, *, token: str | None = None,
                raw: bytes | None = None, headers: dict | None = None, timeout: float = 20) -> Reply:
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Reply(method, path, resp.status, {k.lower(): v for k, v in resp.headers.items()},
                             resp.read())
        except urllib.error.HTTPError as e:
            return Reply(method, path, e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())

    def send_large(self, method: str, path: str, body: bytes, token: str | None = None) -> Reply:
        """Send a big body; the server may answer (413) before reading all of it
        and close the connection, which a real client also has to live with."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.putrequest(method, path)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
            if token:
                conn.putheader("Authorization", f"Bearer {token}")
            conn.endheaders()
            try:
                view = memoryview(body)
                for i in range(0, len(body), 65536):
                    conn.sock.sendall(view[i:i + 65536])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the answer may already be waiting
            try:
                resp = conn.getresponse()
            except (ConnectionResetError, http.client.RemoteDisconnected) as e:
                raise AssertionError(f"{method} {path} with a {len(body)}-byte body: connection dropped "
                                     f"without an HTTP answer ({e!r}); expected 413 M_TOO_LARGE") from None
            return Reply(method, path, resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    # -- accounts ----------------------------------------------------------

    def register(self, prefix: str = "user") -> dict:
        """Register through user-interactive auth as the spec describes it:
        a first request without `auth` gets 401 with a session and flows, the
        second completes m.login.dummy in that session."""
        username = f"{prefix}-{secrets.token_hex(4)}"
        body = {"username": username, "password": PASSWORD, "initial_device_display_name": "errors suite"}
        first = self.request("POST", f"{CS}/register", body)
        assert first.status == 401 and isinstance(first.json, dict), \
            f"register without auth: expected the HTTP 401 user-interactive auth answer, got {first!r}"
        session = first.json.get("session")
        flows = first.json.get("flows") or []
        assert any(f.get("stages") == ["m.login.dummy"] for f in flows), f"no m.login.dummy flow: {first!r}"
        assert isinstance(session, str) and session, f"no UIA session: {first!r}"
        second = self.request("POST", f"{CS}/register",
                              {**body, "auth": {"type": "m.login.dummy", "session": session}})
        account = second.ok(f"register {username} with m.login.dummy")
        for key in ("user_id", "access_token", "device_id"):
            assert isinstance(account.get(key), str) and account[key], f"register answer lacks {key}: {second!r}"
        account["username"] = username
        return account

    def login(self, username: str) -> dict:
        reply = self.request("POST", f"{CS}/login", {
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": username},
            "password": PASSWORD})
        return reply.ok(f"login as {username}")

    def create_room(self, token: str, **body) -> str:
        reply = self.request("POST", f"{CS}/createRoom", {"preset": "private_chat", **body}, token=token)
        room_id = reply.ok("createRoom").get("room_id")
        assert isinstance(room_id, str) and room_id.startswith("!"), f"createRoom: {reply!r}"
        return room_id
