"""Prepared statements behind PgBouncer in transaction mode (storage/prepared.h):
statements prepared on one server connection are gone in the next
transaction. The server notices once, runs the transaction again unprepared,
says so in its log, and no request fails; with database.prepared_statements =
false it never tries. (That they are prepared against PostgreSQL directly is
checked in tests/integration/storage/database_test.cpp.)"""

import os
from concurrent.futures import ThreadPoolExecutor
import subprocess
from pathlib import Path

import pytest

from conftest import free_port
from cs_client import register

REPO = Path(__file__).resolve().parents[2]
PGBOUNCER = REPO / "scripts/lib/pgbouncer.sh"
LOST = "a prepared statement was lost between transactions"


@pytest.fixture
def pgbouncer(database, tmp_path):
    """PgBouncer in transaction mode with two server connections, in front of
    the test's database: clients take turns on them."""
    directory = tmp_path / "pgbouncer"
    out = subprocess.run([str(PGBOUNCER), "start", str(directory), str(free_port()), database],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, ELTRIX_PGBOUNCER_POOL_SIZE="2"))
    yield out.stdout.strip()
    subprocess.run([str(PGBOUNCER), "stop", str(directory)], capture_output=True)


def chat(node, until=lambda: False, senders=6, rounds=10, max_rounds=40):
    """Users sending into one room at once, so that the server's pooled
    connections meet PgBouncer's two server connections in every pairing,
    for `rounds` rounds or until `until()`, then read it all back: every
    answer must be right."""
    users = [register(node, f"user{i}") for i in range(senders)]
    room = users[0].ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    for user in users[1:]:
        user.ok("POST", f"/join/{room}", {})
    sent = set()

    def send(user, n):
        return user.ok("PUT", f"/rooms/{room}/send/m.room.message/t{n}",
                       {"msgtype": "m.text", "body": f"message {n}"})["event_id"]

    with ThreadPoolExecutor(senders) as pool:
        done = 0
        while done < max_rounds and (done < rounds or not until()):
            sent.update(pool.map(send, users, [done] * senders))
            done += 1
    assert len(sent) == done * senders
    page = users[0].ok("GET", f"/rooms/{room}/messages", dir="b", limit="1000")
    seen = {e["event_id"] for e in page["chunk"] if e["type"] == "m.room.message"}
    assert seen == sent


def test_lost_prepared_statements_are_noticed_once_and_no_request_fails(start_node, pgbouncer):
    node = start_node(database_url=pgbouncer, ELTRIX_REGISTRATION_ENABLED="true",
                      ELTRIX_RATELIMIT_ENABLED="false")
    node.wait_ready()
    chat(node, until=lambda: LOST in node.log())
    assert node.log().count(LOST) == 1


def test_prepared_statements_can_be_turned_off(start_node, pgbouncer):
    node = start_node(database_url=pgbouncer, ELTRIX_REGISTRATION_ENABLED="true",
                      ELTRIX_RATELIMIT_ENABLED="false",
                      ELTRIX_DATABASE_PREPARED_STATEMENTS="false")
    node.wait_ready()
    chat(node)
    assert LOST not in node.log()
