"""Multi-node tests: they run against a cluster that tests/cluster/run_multinode.sh
started (tests/cluster/cluster.py start), named by ELTRIX_CLUSTER_STATE."""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]

from cluster import Cluster  # noqa: E402
from matrix_http import register  # noqa: E402

# A cross-node wake-up must arrive well before a waiting sync's periodic
# database recheck (every few seconds) could have found the event instead;
# otherwise the mesh could be off and the test would still pass.
WAKE_BOUND_S = float(os.environ.get("ELTRIX_CLUSTER_WAKE_BOUND", "1.0"))


def gap(name: str):
    """Marks a test that needs a cross-node feature listed as missing in
    ELTRIX_MULTINODE_GAPS (tests/cluster/run_multinode.sh): a strict xfail,
    so that it fails once the feature works and the gap must be deleted."""
    if name in os.environ.get("ELTRIX_MULTINODE_GAPS", "").split():
        return pytest.mark.xfail(strict=True, reason=f"known gap '{name}' (ELTRIX_MULTINODE_GAPS)")
    return pytest.mark.gap_closed(name)


def pytest_configure(config):
    config.addinivalue_line("markers", "gap_closed(name): needs a feature that once was a known gap")


@pytest.fixture(scope="session")
def cluster():
    state_file = os.environ.get("ELTRIX_CLUSTER_STATE")
    if not state_file:
        pytest.fail("ELTRIX_CLUSTER_STATE is unset: run tests/cluster/run_multinode.sh", pytrace=False)
    path = Path(state_file)
    c = Cluster.from_state(json.loads(path.read_text()))
    dead = [n.url for n in c.nodes if not n.killed and not n.alive()]
    if dead:
        pytest.fail("nodes not running at the start: " + ", ".join(dead), pytrace=False)
    yield c
    # Record the nodes killed on purpose, so `cluster.py stop` does not report
    # them as crashed.
    c.save(path)


def metric_names(url: str) -> set[str]:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {m.group(1) for m in re.finditer(r"^# TYPE (\S+)", text, re.M)}


@pytest.fixture(scope="session")
def mesh(cluster):
    """Skips tests that need cross-node delivery when the binary has no mesh
    yet (it exports eltrix_cluster_messages_sent_total once it has);
    ELTRIX_CLUSTER_REQUIRE_MESH=1 fails them instead."""
    names = metric_names(cluster.nodes[0].url)
    if "eltrix_cluster_messages_sent_total" not in names:
        why = "this eltrix has no cluster mesh (no eltrix_cluster_messages_sent_total metric)"
        if os.environ.get("ELTRIX_CLUSTER_REQUIRE_MESH") == "1":
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    return True


@pytest.fixture
def pair(cluster):
    """Two users in one room, registered through nginx."""
    alice = register(cluster.url)
    bob = register(cluster.url)
    room = alice.create_room()
    alice.invite(room, bob.user_id)
    bob.join(room)
    return alice, bob, room
