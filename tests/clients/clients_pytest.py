"""pytest glue shared by the client suites (imported by their conftest.py):
one fresh server per session (or the one at ELTRIX_CLIENTS_ATTACH_URL), and
the server log lines written during a failing test attached to its report."""

from __future__ import annotations

import os

import pytest

from server import DEFAULT_SERVER_NAME, EltrixServer, ServerError, http_status

_servers: list[EltrixServer] = []
_OFFSET = pytest.StashKey[int]()  # server log size when a test started


class AttachedServer:
    """A server started elsewhere: ELTRIX_CLIENTS_ATTACH_URL (with
    ELTRIX_SERVER_NAME), e.g. nginx in front of a cluster (tests/cluster)."""

    def __init__(self, url: str, server_name: str):
        self.url = url.rstrip("/")
        self.server_name = server_name

    def alive(self) -> bool:
        # A load balancer may keep /health to itself; any node answers this.
        return http_status(self.url + "/_matrix/client/versions")[0] == 200

    def log_size(self) -> int:
        return 0

    def log_since(self, offset: int, lines: int = 40) -> str:
        return f"(attached to {self.url}: the server logs are wherever it was started)"

    def log_tail(self, lines: int = 60) -> str:
        return self.log_since(0)


def make_server_fixture(name: str):
    @pytest.fixture(scope="session")
    def server():
        attach = os.environ.get("ELTRIX_CLIENTS_ATTACH_URL")
        if attach:
            yield AttachedServer(attach, os.environ.get("ELTRIX_SERVER_NAME", DEFAULT_SERVER_NAME))
            return
        srv = EltrixServer(name=name)
        try:
            srv.start()
        except ServerError as e:
            pytest.fail(f"could not start eltrix for the {name} suite:\n{e}", pytrace=False)
        srv.ready_log_offset = srv.log_size()
        _servers.append(srv)
        yield srv
        _servers.remove(srv)
        crashed = not srv.alive()
        srv.stop()
        if crashed:
            pytest.fail(f"eltrix died during the {name} suite:\n" + srv.log_tail(), pytrace=False)
        srv.cleanup_work_dir()

    return server


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_OFFSET] = _servers[0].log_size() if _servers else 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.failed and report.when in ("setup", "call")) or not _servers:
        return
    srv = _servers[0]
    state = "running" if srv.alive() else "NOT RUNNING (crashed?)"
    since = max(item.stash.get(_OFFSET, 0), getattr(srv, "ready_log_offset", 0))
    report.sections.append((f"eltrix ({state}) log", srv.log_since(since, 25)))
