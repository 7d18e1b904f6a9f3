"""Slow clients must not take a node offline (issue 10, finding 5).

Request heads are read without a worker thread, within http.header_timeout;
idle keep-alive connections and small bodies hold no thread either; each
client address has a connection cap (http.max_connections_per_address)."""

import resource
import socket
import threading
import time

import pytest

from conftest import http

WORKERS = 8
MAX_QUEUED = 32
# More than workers + queue: on a server that gives each a thread, nothing
# else gets in.
SLOW_CONNECTIONS = 300


@pytest.fixture(autouse=True)
def enough_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * SLOW_CONNECTIONS
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(wanted, soft)), hard))
    yield


def probe(node, timeout=5):
    """(status, seconds) of one /health/ready on a fresh connection."""
    started = time.monotonic()
    try:
        status = http("GET", node.url("/health/ready"), timeout=timeout)[0]
    except OSError:
        status = None
    return status, time.monotonic() - started


def assert_probes_fast(node, count=8):
    for _ in range(count):
        status, seconds = probe(node)
        assert status == 200 and seconds < 1.0, (status, seconds)
        time.sleep(0.1)


def connect(node, source="127.0.0.1"):
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", node.port))
    return s


class Trickler:
    """Sockets that each send `first`, then one more line every `interval`
    seconds until the server closes them; records when each was closed."""

    def __init__(self, node, count, first, line=b"X-Slow: 1\r\n", interval=0.5):
        self.sockets = []
        for _ in range(count):
            s = connect(node)
            s.sendall(first)
            self.sockets.append(s)
        self.closed_at = {}
        self.started = time.monotonic()
        self.line, self.interval = line, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            for i, s in enumerate(self.sockets):
                if i in self.closed_at:
                    continue
                try:
                    s.sendall(self.line)
                except OSError:
                    self.closed_at[i] = time.monotonic() - self.started
            self.stop.wait(self.interval)

    def closed_by_server(self):
        """Sockets whose server side is closed (EOF or reset), now."""
        closed = 0
        for s in self.sockets:
            s.setblocking(False)
            try:
                closed += s.recv(4096) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        return closed

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.sockets:
            s.close()


def node_config(**extra):
    lines = {"http.header_timeout": 3, "http.max_queued": MAX_QUEUED,
             "http.max_connections_per_address": 0, **extra}
    return "".join(f"{k} = {v}\n" for k, v in lines.items())


def test_slow_request_heads_hold_no_worker_and_time_out(start_node):
    node = start_node(config_text=node_config(), ELTRIX_WORKERS=WORKERS)
    node.wait_ready()
    attack = Trickler(node, SLOW_CONNECTIONS, b"GET /health/ready HTTP/1.1\r\nHost: x\r\n")
    try:
        time.sleep(1)
        # A load balancer keeps seeing the node as ready during the attack.
        assert_probes_fast(node)
        # The heads never complete: every slow connection is closed once
        # http.header_timeout (3 s) has passed, although each keeps sending.
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and attack.closed_by_server() < SLOW_CONNECTIONS:
            time.sleep(0.5)
        assert attack.closed_by_server() == SLOW_CONNECTIONS
        assert time.monotonic() - attack.started >= 2.5  # not before the deadline
    finally:
        attack.close()
    status, _, body = http("GET", node.url("/metrics"))
    assert b"eltrix_http_head_timeouts_total" in body


def test_slow_small_bodies_hold_no_worker(start_node):
    node = start_node(config_text=node_config(), ELTRIX_WORKERS=WORKERS)
    node.wait_ready()
    head = (b"POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n")
    attack = Trickler(node, SLOW_CONNECTIONS // 2, head, line=b" ")
    try:
        time.sleep(1)
        assert_probes_fast(node)
    finally:
        attack.close()


def test_idle_keep_alive_connections_hold_no_worker(start_node):
    node = start_node(config_text=node_config(), ELTRIX_WORKERS=WORKERS)
    node.wait_ready()
    idle = []
    try:
        for _ in range(WORKERS * 4):
            s = connect(node)
            s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
            idle.append(s)  # open and silent, as a keep-alive client between requests
        assert_probes_fast(node)
        # And each still serves its next request.
        for s in idle[:4]:
            s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        for s in idle:
            s.close()


def test_oversized_head_gets_431(start_node):
    node = start_node(config_text=node_config(), ELTRIX_WORKERS=WORKERS)
    s = connect(node)
    try:
        s.sendall(b"GET /health/live HTTP/1.1\r\n" + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n")
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    finally:
        s.close()


def served(s):
    """Whether the server answers a request on `s` (False: it closed it)."""
    try:
        s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        return s.recv(4096).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def test_connections_per_address_are_capped(start_node):
    cap = 5
    node = start_node(config_text=node_config(**{
        "http.max_connections_per_address": cap,
        "http.connection_limit_exempt": "127.0.0.3, 10.0.0.0/8"}), ELTRIX_WORKERS=WORKERS)
    held = [connect(node) for _ in range(cap)]
    try:
        time.sleep(0.3)
        extra = connect(node)  # the kernel accepts; the server closes it at once
        assert not served(extra)
        extra.close()
        # Another address is served meanwhile (loopback covers 127.0.0.0/8).
        other = connect(node, source="127.0.0.2")
        assert served(other)
        other.close()
        # An exempt address (a load balancer) is not capped.
        proxied = [connect(node, source="127.0.0.3") for _ in range(cap * 2)]
        assert all(served(s) for s in proxied)
        for s in proxied:
            s.close()
        # The held ones still work, and closing one makes room for one more.
        assert served(held[0])
        held.pop().close()
        time.sleep(0.3)
        again = connect(node)
        assert served(again)
        held.append(again)
    finally:
        for s in held:
            s.close()
    # The server counts a socket until it has seen it close, which may take a
    # moment after our close(): until then 127.0.0.1 is still at the cap.
    deadline = time.monotonic() + 5
    while True:
        try:
            status, _, body = http("GET", node.url("/metrics"))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert status == 200
    # At least the extra connection above; a retry of ours refused while the
    # server had not yet seen our closes counts too.
    refused = [line for line in body.decode().splitlines()
               if line.startswith("eltrix_http_connections_per_address_refused_total ")]
    assert refused and float(refused[0].split()[1]) >= 1
