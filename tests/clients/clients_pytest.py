"""pytest glue shared by the client suites (imported by their conftest.py):
one fresh server per session, and the server log lines written during a
failing test attached to its report."""

from __future__ import annotations

import pytest

from server import EltrixServer, ServerError

_servers: list[EltrixServer] = []
_OFFSET = pytest.StashKey[int]()  # server log size when a test started


def make_server_fixture(name: str):
    @pytest.fixture(scope="session")
    def server():
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
