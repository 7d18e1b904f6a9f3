"""Bad-input suite: plain HTTP (urllib / http.client, no Matrix SDK) against one
freshly started eltrix per pytest session; see ../server.py."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from clients_pytest import (make_server_fixture, pytest_runtest_makereport,  # noqa: E402,F401
                            pytest_runtest_setup)
from errors_api import Api  # noqa: E402

server = make_server_fixture("errors")


@pytest.fixture(scope="session")
def api(server) -> Api:
    return Api(server.url)


@pytest.fixture
def user(api) -> dict:
    return api.register("user")


@pytest.fixture
def room(api, user) -> str:
    return api.create_room(user["access_token"], name="errors suite")
