"""Downloads waiting for a pending upload hold no worker thread (issue 10,
finding 6): they park like a waiting /sync and are answered from a worker
once the upload arrives."""

import json
import threading
import time

from conftest import http, http_json
from cs_client import register
from media_client import MEDIA_V1, MEDIA_V3, auth, mxc_parts, upload

WORKERS = 8
WAITERS = 40


def probe_ready(node):
    started = time.monotonic()
    try:
        status = http("GET", node.url("/health/ready"), timeout=5)[0]
    except OSError:
        status = None
    return status, time.monotonic() - started


def test_waiting_downloads_hold_no_worker_and_complete_on_upload(start_node):
    node = start_node(ELTRIX_WORKERS=WORKERS, ELTRIX_REGISTRATION_ENABLED="true",
                      ELTRIX_RATELIMIT_ENABLED="false")
    node.wait_ready()
    alice = register(node, "alice")
    status, created = http_json("POST", node.url(MEDIA_V1 + "/create"), headers=auth(alice))
    assert status == 200, created
    server, media_id = mxc_parts(created["content_uri"])

    results = [None] * WAITERS

    def wait_for_it(i):
        # Unauthenticated legacy endpoint, as in the finding.
        started = time.monotonic()
        try:
            status, _, body = http(
                "GET", node.url(f"{MEDIA_V3}/download/{server}/{media_id}?timeout_ms=20000"),
                timeout=30)
        except OSError as e:
            status, body = None, repr(e).encode()
        results[i] = (status, body, time.monotonic() - started)

    threads = [threading.Thread(target=wait_for_it, args=(i,)) for i in range(WAITERS)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    try:
        # Every download waits (none answered yet), and the node still serves.
        assert all(r is None for r in results), results
        for _ in range(5):
            status, seconds = probe_ready(node)
            assert status == 200 and seconds < 1.0, (status, seconds)
        status, _, metrics = http("GET", node.url("/metrics"))
        parked = [line for line in metrics.decode().splitlines()
                  if line.startswith("eltrix_http_parked_requests ")]
        assert parked and float(parked[0].split()[1]) >= WAITERS, parked
    finally:
        status, out = upload(alice, b"finally here", content_type="text/plain",
                             path=f"{MEDIA_V3}/upload/{server}/{media_id}")
        assert status == 200, out
        uploaded_at = time.monotonic()
        for t in threads:
            t.join(timeout=30)
    # The upload went through this node: the waits answer at once.
    assert time.monotonic() - uploaded_at < 5
    for status, body, _ in results:
        assert (status, body) == (200, b"finally here")


def test_a_wait_that_runs_out_answers_504_and_waited_parked(start_node):
    node = start_node(ELTRIX_WORKERS=WORKERS, ELTRIX_REGISTRATION_ENABLED="true",
                      ELTRIX_RATELIMIT_ENABLED="false")
    node.wait_ready()
    alice = register(node, "alice")
    status, created = http_json("POST", node.url(MEDIA_V1 + "/create"), headers=auth(alice))
    server, media_id = mxc_parts(created["content_uri"])
    result = {}

    def wait_for_it():
        started = time.monotonic()
        status, _, body = http(
            "GET", node.url(f"{MEDIA_V3}/download/{server}/{media_id}?timeout_ms=2000"),
            timeout=10)
        result["answer"] = (status, json.loads(body)["errcode"], time.monotonic() - started)

    t = threading.Thread(target=wait_for_it)
    t.start()
    time.sleep(0.7)
    # While it waits, it is a parked request, not one in flight on a worker.
    _, _, metrics = http("GET", node.url("/metrics"))
    lines = dict(line.split(" ", 1) for line in metrics.decode().splitlines()
                 if line and not line.startswith("#") and " " in line)
    assert float(lines["eltrix_http_parked_requests"]) == 1
    assert float(lines["eltrix_http_requests_in_flight"]) == 1  # the /metrics request itself
    t.join(timeout=10)
    status, errcode, seconds = result["answer"]
    assert (status, errcode) == (504, "M_NOT_YET_UPLOADED")
    assert 1.7 < seconds < 5
