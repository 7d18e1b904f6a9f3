"""`eltrix admin METHOD PATH [BODY]`: the admin API from a node's command
line, through the same handlers, against the node's database."""

import json

from admin_client import SERVER, q, query_one
from conftest import base_env, free_port, run_eltrix
from cs_client import register


def admin_cli(binary, env, tmp_path, *args):
    config = tmp_path / "cli.conf"
    config.write_text("")
    return run_eltrix(binary, ["admin", "--config", str(config), *args], env)


def test_admin_cli(binary, database, tmp_path, start_node):
    env = base_env(database, tmp_path, free_port())
    # Works before any node started (it applies the migrations itself).
    run = admin_cli(binary, env, tmp_path, "POST", "v1/registration_tokens/new",
                    '{"token": "clitoken", "uses_allowed": 3}')
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["uses_allowed"] == 3

    node = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    node.wait_ready()
    bob = register(node, "clibob")
    room = bob.ok("POST", "/createRoom", {"name": "CLI room"})["room_id"]

    run = admin_cli(binary, env, tmp_path, "GET", "/_synapse/admin/v2/users?name=clibob")
    assert run.returncode == 0, run.stderr
    assert [u["name"] for u in json.loads(run.stdout)["users"]] == [bob.user_id]

    run = admin_cli(binary, env, tmp_path, "--as", f"@ops:{SERVER}", "PUT",
                    f"v1/rooms/{q(room)}/block", '{"block": true}')
    assert run.returncode == 0, run.stderr
    run = admin_cli(binary, env, tmp_path, "GET", f"v1/rooms/{q(room)}/block")
    assert json.loads(run.stdout) == {"block": True, "user_id": f"@ops:{SERVER}"}

    # A v2 room deletion is waited for: the final status is printed.
    run = admin_cli(binary, env, tmp_path, "DELETE", f"v2/rooms/{q(room)}", "{}")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["status"] == "complete" and out["shutdown_room"]["kicked_users"] == [bob.user_id]

    # Deactivation removes the tokens. (A node with the per-node "local"
    # cache may answer from its cache for up to 30 s more: the command is
    # not on the cluster mesh that relays revocations; with Redis it is at
    # once. docs/admin-api.md says so.)
    run = admin_cli(binary, env, tmp_path, "POST", f"v1/deactivate/{q(bob.user_id)}",
                    '{"erase": true}')
    assert run.returncode == 0, run.stderr
    assert query_one(database, f"SELECT count(*) FROM access_tokens "
                               f"WHERE user_id = '{bob.user_id}'") == "0"
    assert query_one(database, f"SELECT deactivated FROM users "
                               f"WHERE user_id = '{bob.user_id}'") == "t"

    # Errors: an unknown user (1, the Matrix error on stdout), an unknown
    # path, bad usage (64).
    run = admin_cli(binary, env, tmp_path, "GET", f"v2/users/{q('@nobody:' + SERVER)}")
    assert run.returncode == 1 and json.loads(run.stdout)["errcode"] == "M_NOT_FOUND"
    run = admin_cli(binary, env, tmp_path, "GET", "v1/no_such_thing")
    assert run.returncode == 1 and json.loads(run.stdout)["errcode"] == "M_UNRECOGNIZED"
    run = admin_cli(binary, env, tmp_path, "GET")
    assert run.returncode == 64 and "Usage: eltrix admin" in run.stderr
    run = admin_cli(binary, env, tmp_path, "POST", "v1/reset_password/x", "not json")
    assert run.returncode == 1
