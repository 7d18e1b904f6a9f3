"""The nio suite runs against one freshly started eltrix (own database) per
pytest session; see ../server.py and ../clients_pytest.py."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from clients_pytest import (make_server_fixture, pytest_runtest_makereport,  # noqa: E402,F401
                            pytest_runtest_setup)

server = make_server_fixture("nio")
