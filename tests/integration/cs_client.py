"""A minimal Client-Server API client for the end-to-end tests: one access
token, JSON in and out, and registration through the m.login.dummy flow."""

import json
import urllib.parse

from conftest import http_json

CS = "/_matrix/client/v3"


class Client:
    def __init__(self, node, user_id, token, device_id):
        self.node, self.user_id, self.token, self.device_id = node, user_id, token, device_id

    # The HTTP client's timeout is http_timeout so that "timeout" stays free
    # for /sync's query parameter. `raw` sends bytes as they are.
    def call(self, method, path, body=None, http_timeout=20, raw=None, prefix=CS, **query):
        url = self.node.url(prefix + path)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        return http_json(method, url, body=data, headers=headers, timeout=http_timeout)

    def ok(self, method, path, body=None, **kwargs):
        status, out = self.call(method, path, body, **kwargs)
        assert status == 200, (method, path, status, out)
        return out

    def error(self, expected_status, expected_code, method, path, body=None, **query):
        status, out = self.call(method, path, body, **query)
        assert (status, out and out.get("errcode")) == (expected_status, expected_code), out
        return out

    def sync(self, **query):
        # "timeout" is the long-poll's (a query parameter, in ms); the HTTP
        # client waits longer than that.
        wait = int(query.get("timeout", 0)) / 1000
        return self.ok("GET", "/sync", http_timeout=wait + 10, **query)


def register(node, name, password="correct horse battery"):
    body = {"username": name, "password": password}
    headers = {"Content-Type": "application/json"}
    status, first = http_json("POST", node.url(CS + "/register"), body=json.dumps(body).encode(),
                              headers=headers)
    assert status == 401, first
    body["auth"] = {"type": "m.login.dummy", "session": first["session"]}
    status, out = http_json("POST", node.url(CS + "/register"), body=json.dumps(body).encode(),
                            headers=headers)
    assert status == 200, out
    return Client(node, out["user_id"], out["access_token"], out["device_id"])


def q(value):
    """A path segment: every reserved character percent-encoded."""
    return urllib.parse.quote(value, safe="")


V1 = "/_matrix/client/v1"
_txn_counter = [0]


def send_event(client, room, content, event_type="m.room.message"):
    """PUT /send with a fresh transaction ID; returns the event ID."""
    _txn_counter[0] += 1
    return client.ok("PUT", f"/rooms/{q(room)}/send/{event_type}/cs{_txn_counter[0]}",
                     content)["event_id"]


def text(body, **extra):
    """An m.text message content, with extra top-level keys (m.relates_to...)."""
    return {"msgtype": "m.text", "body": body, **extra}
