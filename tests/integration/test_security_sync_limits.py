"""Limits on waiting syncs and descriptors (issue 10, finding 12): the
waiting-sync limit fits the parked-request limit, one user cannot park
unbounded syncs, and the node raises its own open-file soft limit."""

import resource
import threading
import time

from conftest import base_env, free_port, run_eltrix
from cs_client import register


def test_max_waiting_above_max_parked_is_a_config_error(binary, tmp_path, database):
    conf = tmp_path / "eltrix.conf"
    conf.write_text("sync.max_waiting = 30000\nhttp.max_parked = 10000\n")
    env = base_env(database, tmp_path, free_port())
    result = run_eltrix(binary, ["--config", str(conf), "--config=check"], env)
    assert result.returncode == 78, result.stderr
    assert "sync.max_waiting = 30000 exceeds http.max_parked = 10000" in result.stderr

    conf.write_text("sync.max_waiting = 10000\nhttp.max_parked = 10000\n")
    result = run_eltrix(binary, ["--config", str(conf), "--config=check"], env)
    assert result.returncode == 0, result.stderr
    # The defaults are consistent.
    conf.write_text("")
    result = run_eltrix(binary, ["--config", str(conf), "--config=check"], env)
    assert result.returncode == 0, result.stderr


def test_a_users_oldest_waiting_sync_answers_beyond_the_per_user_cap(start_node):
    node = start_node(config_text="sync.max_waiting_per_user = 2\n",
                      ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    node.wait_ready()
    alice = register(node, "alice")
    since = alice.sync(timeout=0)["next_batch"]

    done = {}

    def long_poll(name):
        started = time.monotonic()
        alice.sync(since=since, timeout=15000)
        done[name] = time.monotonic() - started

    threads = []
    for name in ("first", "second", "third"):
        t = threading.Thread(target=long_poll, args=(name,))
        t.start()
        threads.append(t)
        time.sleep(0.7)
    time.sleep(1.0)
    # The third sync pushed the first one out: it answered (with nothing new)
    # long before its timeout; the other two still wait.
    assert set(done) == {"first"}, done
    assert done["first"] < 4
    # A message wakes the two that wait.
    room = alice.ok("POST", "/createRoom", {})["room_id"]
    alice.ok("PUT", f"/rooms/{room}/send/m.room.message/t1", {"msgtype": "m.text", "body": "hi"})
    for t in threads:
        t.join(timeout=20)
    assert set(done) == {"first", "second", "third"}
    assert max(done["second"], done["third"]) < 10


def test_node_raises_its_open_file_soft_limit(start_node):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard <= 1024:
        import pytest
        pytest.skip("the hard open-file limit is 1024 here; nothing to raise")
    # Start the node as a shell would: soft limit 1024.
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        node = start_node()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    limits = open(f"/proc/{node.proc.pid}/limits").read()
    line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
    assert line.split()[3] == line.split()[4], line  # soft == hard
    assert int(line.split()[3]) == hard
    assert "raised the open-file limit" in node.log()
