"""The nio suite runs against one freshly started eltrix (own database) per
pytest session; see ../server.py for how it is started."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from server import EltrixServer, ServerError  # noqa: E402


@pytest.fixture(scope="session")
def server():
    srv = EltrixServer(name="nio")
    try:
        srv.start()
    except ServerError as e:
        pytest.fail(f"could not start eltrix for the nio suite:\n{e}", pytrace=False)
    yield srv
    crashed = not srv.alive()
    srv.stop()
    if crashed:
        pytest.fail("eltrix died during the nio suite:\n" + srv.log_tail(), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    srv = item.funcargs.get("server") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and isinstance(srv, EltrixServer):
        state = "running" if srv.alive() else "NOT RUNNING (crashed?)"
        report.sections.append((f"eltrix server ({state}) log", srv.log_tail(40)))
