"""Shared by the admin API tests (test_admin_*.py): one node per test module
(a fresh database), a server admin and an ordinary user, and helpers that
check each endpoint refuses non-admins with 403 M_FORBIDDEN."""

import json
import secrets
import subprocess

import pytest

from conftest import Node, base_env, free_port, psql, url_with_db
from cs_client import Client, register

ADMIN = "/_synapse/admin"
SERVER = "e2e.test"
PASSWORD = "correct horse battery"


def query_one(url, sql):
    out = subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def login(node, user, password=PASSWORD):
    client = Client(node, None, None, None)
    out = client.ok("POST", "/login", {"type": "m.login.password",
                                       "identifier": {"type": "m.id.user", "user": user},
                                       "password": password})
    return Client(node, out["user_id"], out["access_token"], out["device_id"])


class Server:
    """A node, its database URL, an admin client and a non-admin client."""

    def __init__(self, node, database_url, media_root=None):
        self.node, self.database_url = node, database_url
        self.media_root = media_root
        register(node, "root")
        psql(database_url, f"UPDATE users SET admin = true WHERE user_id = '@root:{SERVER}'")
        # A fresh login: the first token's owner (not yet admin) may be cached.
        self.admin = login(node, "root")
        self.user = register(node, "mallory")

    def sql(self, query):
        return query_one(self.database_url, query)

    def new_user(self, prefix="u"):
        return register(self.node, f"{prefix}{secrets.token_hex(4)}")


@pytest.fixture(scope="module")
def server(binary, admin_url, tmp_path_factory):
    name = "e2e_" + secrets.token_hex(6)
    psql(admin_url, f"CREATE DATABASE {name}")
    url = url_with_db(admin_url, name)
    tmp = tmp_path_factory.mktemp("admin")
    port = free_port()
    env = base_env(url, tmp, port, ELTRIX_REGISTRATION_ENABLED="true",
                   ELTRIX_RATELIMIT_ENABLED="false")
    config = tmp / "eltrix.conf"
    config.write_text("")
    node = Node(binary, env, tmp, port, args=["--config", str(config)])
    try:
        node.wait_live()
        node.wait_ready()
        yield Server(node, url, tmp / "media")
    finally:
        node.stop()
        psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def admin_call(client, method, path, body=None, **query):
    return client.call(method, path, body, prefix=ADMIN, **query)


def admin_ok(client, method, path, body=None, expected=200, **query):
    status, out = admin_call(client, method, path, body, **query)
    assert status == expected, (method, path, status, out)
    return out


def admin_error(client, status, errcode, method, path, body=None, **query):
    got, out = admin_call(client, method, path, body, **query)
    assert (got, out and out.get("errcode")) == (status, errcode), (method, path, got, out)
    return out


def assert_admin_only(server, method, path, body=None, **query):
    """A non-admin gets 403 M_FORBIDDEN, and no token gets 401."""
    admin_error(server.user, 403, "M_FORBIDDEN", method, path, body, **query)
    anonymous = Client(server.node, None, "", None)
    got, out = anonymous.call(method, path, body, prefix=ADMIN, **query)
    assert got == 401 and out["errcode"] in ("M_MISSING_TOKEN", "M_UNKNOWN_TOKEN"), (got, out)


def q(value):
    import urllib.parse
    return urllib.parse.quote(value, safe="")


def dumps(value):
    return json.dumps(value, sort_keys=True)
