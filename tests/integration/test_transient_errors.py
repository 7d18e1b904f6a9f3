"""A database that fails for a moment is the server's transient failure, not
the client's error and not a 500: the request is answered 503 M_UNKNOWN
with Retry-After, so that the client retries it, and the server serves the
retry once the database is back (docs/decisions.md D34). The database is a
real PostgreSQL: its backends are terminated while a request runs, and it
refuses connections for a while."""

import json
import subprocess
import threading
import time

from conftest import http, psql, url_with_db
from cs_client import CS, q, register


def database_name(url):
    return url.rpartition("/")[2]


def send(client, room, txn, body="hello"):
    """(status, headers, body json) of sending one message with txn ID `txn`."""
    status, headers, raw = http(
        "PUT", client.node.url(f"{CS}/rooms/{q(room)}/send/m.room.message/{txn}"),
        body=json.dumps({"msgtype": "m.text", "body": body}).encode(),
        headers={"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"},
        timeout=30)
    return status, headers, json.loads(raw) if raw else None


def assert_transient(status, headers, body):
    assert status == 503, body
    assert body["errcode"] == "M_UNKNOWN", body
    assert int(headers["Retry-After"]) >= 1, headers
    # The client reads neither SQL nor the database's own words.
    assert "terminat" not in body["error"].lower() and "database '" not in body["error"], body


def messages_with_body(client, room, text):
    out = client.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit="50")
    return [e for e in out["chunk"] if e["type"] == "m.room.message"
            and e["content"].get("body") == text]


def backends_waiting_on_lock(admin_url, dbname):
    out = subprocess.run(
        ["psql", admin_url, "-At", "-c",
         "SELECT pid FROM pg_stat_activity WHERE datname = '" + dbname + "' "
         "AND wait_event_type = 'Lock'"],
        check=True, capture_output=True, text=True).stdout
    return [line for line in out.split() if line]


def test_a_backend_terminated_mid_request_is_503_and_the_retry_succeeds(node, database, admin_url):
    alice = register(node, "alice")
    room = alice.ok("POST", "/createRoom", {})["room_id"]
    dbname = database_name(database)

    # Hold a table only the send's insert writes (its reads go with BEGIN and
    # would be retried on a fresh connection: nothing has run then), so the
    # send below waits inside PostgreSQL mid-transaction.
    holder = subprocess.Popen(["psql", database, "-v", "ON_ERROR_STOP=1", "-q", "-At"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    holder.stdin.write("BEGIN; LOCK TABLE event_edges IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "locked"

    result = {}
    request = threading.Thread(target=lambda: result.update(r=send(alice, room, "t1", "mid")))
    request.start()
    try:
        deadline = time.monotonic() + 15
        waiting = []
        while not waiting and time.monotonic() < deadline:
            waiting = backends_waiting_on_lock(admin_url, dbname)
            time.sleep(0.05)
        assert waiting, "the send never reached the locked table"
        # An operator's restart, a failover or PgBouncer dropping the server
        # connection look the same to the node: its backend goes away.
        psql(admin_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE pid IN ({', '.join(waiting)})")
        request.join(timeout=30)
    finally:
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        holder.wait(timeout=10)
    assert not request.is_alive()
    assert_transient(*result["r"])

    # The retry (same transaction ID) goes through, once.
    status, _, body = send(alice, room, "t1", "mid")
    assert status == 200, body
    assert len(messages_with_body(alice, room, "mid")) == 1


def test_a_database_that_refuses_connections_is_503_until_it_is_back(node, database, admin_url):
    alice = register(node, "alice")
    room = alice.ok("POST", "/createRoom", {})["room_id"]
    dbname = database_name(database)
    admin_db = url_with_db(admin_url, "postgres")

    psql(admin_db, f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS false")
    try:
        # Every pooled connection goes; new ones are refused.
        psql(admin_db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       f"WHERE datname = '{dbname}'")
        for txn in ("d1", "d2", "d3"):
            assert_transient(*send(alice, room, txn, "down"))
        status, headers, raw = http("GET", node.url(f"{CS}/joined_rooms"),
                                    headers={"Authorization": f"Bearer {alice.token}"})
        assert_transient(status, headers, json.loads(raw))
    finally:
        psql(admin_db, f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS true")

    # Back: the node makes new connections and serves the retries.
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        status, _, body = send(alice, room, "d1", "down")
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200, body
    assert send(alice, room, "d2", "down")[0] == 200
    assert len(messages_with_body(alice, room, "down")) == 2
    assert alice.ok("GET", "/joined_rooms")["joined_rooms"] == [room]
