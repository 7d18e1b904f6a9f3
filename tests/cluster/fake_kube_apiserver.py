#!/usr/bin/python3
"""A small stand-in for the Kubernetes API server, for the kubernetes cluster
strategy's tests (the real one cannot run here).

It answers GET /api/v1/namespaces/{namespace}/pods?labelSelector=... over HTTPS
with the real PodList wire format (apiVersion v1, kind PodList,
metadata.resourceVersion, items), and errors as real v1 Status objects:

- the request must carry "Authorization: Bearer <token>" with the token now in
  --token-file (re-read on every request, so a test can rotate it), else 401;
- labelSelector is equality-based: comma-separated key=value, key==value or
  key!=value (a malformed one gets 400, as from the real server);
- the pods are read from --pods-file on every request, so a test changes the
  pod set over time by rewriting that file (atomically). The file holds
  {"resourceVersion": "N", "pods": [pod objects as the API returns them]};
- namespaces listed in --forbidden-namespaces answer 403, as when the
  service account has no RBAC grant there;
- each request is appended to --requests-log as one JSON line (path, query,
  whether the token matched; never the token itself).

    fake_kube_apiserver.py --cert C --key K --token-file T --pods-file P
                           [--port 0] [--port-file F] [--requests-log L]
                           [--forbidden-namespaces NS,...]

Listens on 127.0.0.1; with --port 0 it picks a free port and writes it to
--port-file once it is listening. Stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import hmac
import http.server
import json
import os
import signal
import ssl
import sys
import threading
import urllib.parse


def status_body(code: int, reason: str, message: str) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def parse_selector(text: str) -> list[tuple[str, str, str]]:
    """[(key, op, value)] with op "=" or "!="; ValueError when malformed."""
    requirements = []
    if not text:
        return requirements
    for part in text.split(","):
        part = part.strip()
        if "!=" in part:
            key, value = part.split("!=", 1)
            op = "!="
        elif "==" in part:
            key, value = part.split("==", 1)
            op = "="
        elif "=" in part:
            key, value = part.split("=", 1)
            op = "="
        else:
            raise ValueError(f"unable to parse requirement: {part!r}")
        key, value = key.strip(), value.strip()
        if not key or "=" in value:
            raise ValueError(f"unable to parse requirement: {part!r}")
        requirements.append((key, op, value))
    return requirements


def matches(labels: dict, requirements) -> bool:
    for key, op, value in requirements:
        present = key in labels and labels[key] == value
        if (op == "=" and not present) or (op == "!=" and present):
            return False
    return True


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "fake-kube-apiserver/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the requests log says enough
        pass

    def send_json(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, entry: dict) -> None:
        log = self.server.options.requests_log
        if not log:
            return
        with self.server.log_lock, open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def do_GET(self):  # noqa: N802 (http.server's naming)
        options = self.server.options
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        with open(options.token_file, encoding="utf-8") as f:
            expected = "Bearer " + f.read().strip()
        given = self.headers.get("Authorization", "")
        authorised = hmac.compare_digest(given.encode(), expected.encode())
        self.record({"path": url.path, "query": query, "authorised": authorised})
        if not authorised:
            self.send_json(401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        parts = url.path.strip("/").split("/")
        # api / v1 / namespaces / {ns} / pods
        if len(parts) != 5 or parts[:3] != ["api", "v1", "namespaces"] or parts[4] != "pods":
            self.send_json(404, status_body(404, "NotFound", "the server could not find the "
                                                             "requested resource"))
            return
        namespace = parts[3]
        if namespace in options.forbidden_namespaces.split(","):
            self.send_json(403, status_body(
                403, "Forbidden",
                f'pods is forbidden: User "system:serviceaccount:{namespace}:default" cannot '
                f'list resource "pods" in API group "" in the namespace "{namespace}"'))
            return
        try:
            requirements = parse_selector(query.get("labelSelector", [""])[0])
        except ValueError as e:
            self.send_json(400, status_body(400, "BadRequest", str(e)))
            return
        with open(options.pods_file, encoding="utf-8") as f:
            state = json.load(f)
        items = [
            pod for pod in state.get("pods", [])
            if pod.get("metadata", {}).get("namespace") == namespace
            and matches(pod.get("metadata", {}).get("labels", {}), requirements)
        ]
        self.send_json(200, {
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(state.get("resourceVersion", "1"))},
            "items": items,
        })


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that rejects our certificate ends the handshake: expected
        # in the CA-mismatch test, not worth a traceback.
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--pods-file", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--requests-log")
    parser.add_argument("--forbidden-namespaces", default="")
    options = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(options.cert, options.key)
    server = Server(("127.0.0.1", options.port), Handler)
    server.options = options
    server.log_lock = threading.Lock()
    # The handshake runs in the handler thread (do_handshake_on_connect
    # would run it in accept(), where one stuck client would block others).
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    if options.port_file:
        tmp = options.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, options.port_file)
    print(f"fake kube-apiserver on https://127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
