"""Start-up, configuration errors, readiness, draining and systemd notify."""

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from conftest import REPO, base_env, free_port, http_json, run_eltrix


def test_unknown_cache_backend_exits_78_naming_key_value_and_installed(binary, tmp_path):
    env = {"PATH": os.environ["PATH"], "ELTRIX_CACHE_BACKEND": "nosuch"}
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    result = run_eltrix(binary, ["--config", str(empty)], env)
    assert result.returncode == 78, result.stderr
    assert "cache.backend = 'nosuch'" in result.stderr
    assert "installed cache plugins: local (" in result.stderr
    # every problem at once: the missing server name is reported too
    assert "server.name is required" in result.stderr


def test_config_check_reports_file_and_line(binary, tmp_path, database):
    conf = tmp_path / "eltrix.conf"
    conf.write_text("server.name = ok.example\n\ndatabase.pool_size = many\n")
    env = base_env(database, tmp_path, free_port())
    del env["ELTRIX_SERVER_NAME"]
    result = run_eltrix(binary, ["--config", str(conf), "--config=check"], env)
    assert result.returncode == 78
    assert f"database.pool_size = 'many' (from {conf}:3)" in result.stderr

    conf.write_text("server.name = ok.example\n")
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "10-pool.conf").write_text("database.pool_size = 20\n")
    result = run_eltrix(binary, ["--config", str(conf), "--config=check"], env)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert "cache-local" in result.stdout
    assert str(env["DATABASE_URL"]) not in result.stdout + result.stderr  # secrets never printed


def test_config_check_asks_plugins_to_validate_without_starting(binary, tmp_path, database):
    env = base_env(database, tmp_path, free_port(), ELTRIX_CLUSTER_ENABLED="true",
                   ELTRIX_CLUSTER_STRATEGY="epmd", ELTRIX_CLUSTER_PEERS="node1:4370,[1:2]:80,ok")
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    result = run_eltrix(binary, ["--config", str(empty), "--config=check"], env)
    assert result.returncode == 78, result.stdout + result.stderr
    assert "cluster.peers = 'node1:4370,[1:2]:80,ok' (from env ELTRIX_CLUSTER_PEERS)" in result.stderr
    assert "[1:2]" in result.stderr.split("(from env ELTRIX_CLUSTER_PEERS):", 1)[1]

    env["ELTRIX_CLUSTER_PEERS"] = "node1:4370,[fd00::1]:80"
    result = run_eltrix(binary, ["--config", str(empty), "--config=check"], env)
    assert result.returncode == 0, result.stderr
    assert "cluster.strategy = static: cluster-strategy-static" in result.stdout


def test_list_plugins_shows_first_party_plugins(binary):
    result = run_eltrix(binary, ["--list-plugins"], {"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr
    for kind, name in [("cache", "local"), ("media-store", "fs"),
                       ("cluster-strategy", "static"), ("db-routing", "primary")]:
        line = next(l for l in result.stdout.splitlines() if f"{kind}-{name}.so" in l)
        assert line.split()[:2] == [kind, name]
        assert " ok " in line and " 1.1 " in line


def test_generated_config_files_are_fresh(binary):
    env = {"PATH": os.environ["PATH"]}
    default = run_eltrix(binary, ["--config=default"], env)
    assert default.returncode == 0
    assert default.stdout == (REPO / "etc" / "eltrix.conf").read_text(), \
        "etc/eltrix.conf is stale: run scripts/gen-config-docs"
    markdown = run_eltrix(binary, ["--config=markdown"], env)
    assert markdown.stdout == (REPO / "docs" / "config-reference.md").read_text(), \
        "docs/config-reference.md is stale: run scripts/gen-config-docs"


def test_readiness_follows_postgres(start_node):
    pgdata = os.environ.get("ELTRIX_TEST_PGDATA")
    assert pgdata, "scripts/test sets ELTRIX_TEST_PGDATA"
    pg = str(REPO / "scripts" / "lib" / "postgres.sh")
    node = start_node()
    node.wait_ready()
    subprocess.run([pg, "stop", pgdata], check=True, capture_output=True)
    try:
        body = node.wait_ready(expected=503, timeout=30)
        assert "database" in body["failed"]
        assert http_json("GET", node.url("/health/live"))[0] == 200
    finally:
        subprocess.run([pg, "start", pgdata],
                       check=True, capture_output=True)
    node.wait_ready(expected=200, timeout=60)


def test_two_nodes_start_at_once_on_a_fresh_database(start_node):
    first = start_node()
    second = start_node()
    first.wait_ready()
    second.wait_ready()


def test_database_is_pinned_to_its_server_name(start_node):
    node = start_node()
    node.wait_ready()
    assert node.stop() == 0
    # It exits as soon as it reads the pinned name: possibly before it answers.
    other = start_node(ELTRIX_SERVER_NAME="other.test", wait=False)
    other.proc.wait(timeout=30)
    assert other.proc.returncode == 78
    assert "e2e.test" in other.log() and "other.test" in other.log()


def test_sigterm_drains_and_notifies_systemd(binary, database, tmp_path):
    with tempfile.TemporaryDirectory() as sockdir:
        sock_path = Path(sockdir) / "notify.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(sock_path))
        sock.settimeout(20)
        port = free_port()
        env = base_env(database, tmp_path, port, NOTIFY_SOCKET=str(sock_path))
        conf = tmp_path / "empty.conf"
        conf.write_text("")
        proc = subprocess.Popen([binary, "--config", str(conf)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            ready = sock.recv(4096).decode()
            assert "READY=1" in ready
            # READY=1 is sent once listening: the port answers immediately.
            assert http_json("GET", f"http://127.0.0.1:{port}/health/live")[0] == 200
            proc.terminate()
            stopping = sock.recv(4096).decode()
            assert "STOPPING=1" in stopping
            out, _ = proc.communicate(timeout=30)
            assert proc.returncode == 0, out
            assert "draining" in out and "stopped" in out
        finally:
            if proc.poll() is None:
                proc.kill()
            sock.close()
