"""A push gateway for the tests (spec: Push Gateway API): a real HTTP server
on loopback answering POST /_matrix/push/v1/notify, recording every body it
accepts. It can fail (HTTP 500) a given number of times first, and reject
pushkeys ({"rejected": [...]}), as a gateway does for a dead device token."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NOTIFY_PATH = "/_matrix/push/v1/notify"


class PushGateway:
    def __init__(self):
        self.received = []   # bodies answered 200, in order
        self.failed = 0      # requests answered 500
        self.fail_next = 0   # how many requests to answer 500 before succeeding
        self.reject = set()  # pushkeys to answer as rejected
        self._lock = threading.Condition()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                with gateway._lock:
                    if self.path != NOTIFY_PATH:
                        status, answer = 404, {}
                    elif gateway.fail_next > 0:
                        gateway.fail_next -= 1
                        gateway.failed += 1
                        status, answer = 500, {"error": "try later"}
                    else:
                        gateway.received.append(body)
                        keys = [d["pushkey"] for d in body["notification"]["devices"]]
                        status = 200
                        answer = {"rejected": [k for k in keys if k in gateway.reject]}
                    gateway._lock.notify_all()
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}{NOTIFY_PATH}"

    def wait_for(self, predicate, timeout=15):
        """The first received body for which predicate(notification) holds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for body in self.received:
                    if predicate(body["notification"]):
                        return body["notification"]
                left = deadline - time.monotonic()
                assert left > 0, f"no matching push in {timeout}s; got {self.received}"
                self._lock.wait(left)

    def notifications_for(self, event_id):
        with self._lock:
            return [b["notification"] for b in self.received
                    if b["notification"].get("event_id") == event_id]

    def close(self):
        self._server.shutdown()
        self._server.server_close()
