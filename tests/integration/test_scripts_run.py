"""The README's first command, as a new user runs it: scripts/run with no
DATABASE_URL creates a private PostgreSQL under the data directory and serves."""

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

from conftest import REPO, free_port, http, http_json


def test_scripts_run_serves_on_a_private_postgres(binary, tmp_path):
    data = tmp_path / "var"
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "ELTRIX_SKIP_DEPS": "1",
        "ELTRIX_BUILD_DIR": str(Path(binary).resolve().parents[1]),
        "ELTRIX_DATA_DIR": str(data),
        "ELTRIX_PORT": str(port),
        "ELTRIX_PG_PORT": str(free_port()),
    }
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([str(REPO / "scripts" / "run")], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180  # includes initdb
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = http_json("GET", f"http://127.0.0.1:{port}/health/ready", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, (tmp_path / "run.log").read_text()
        assert body["status"] == "ready"

        status, _, metrics = http("GET", f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        promtool = subprocess.run([shutil.which("promtool"), "check", "metrics"], input=metrics,
                                  capture_output=True)
        assert promtool.returncode == 0, promtool.stdout + promtool.stderr
        assert http_json("GET", f"http://127.0.0.1:{port}/nope")[1]["errcode"] == "M_UNRECOGNIZED"

        # Only the server and its plugins are built (issue 15: the first run
        # used to build every test too).
        run_log = (tmp_path / "run.log").read_text()
        plugins = len(list((Path(binary).resolve().parents[1] / "plugins").glob("*.so")))
        assert f"building the server and {plugins} plugins" in run_log, run_log

        assert (data / "postgres" / "PG_VERSION").is_file()
        key = data / "secret_key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text()) >= 32

        proc.terminate()  # scripts/run execs the server: SIGTERM reaches it
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        subprocess.run([str(REPO / "scripts/lib/postgres.sh"), "stop", str(data / "postgres")],
                       capture_output=True)


TEST_ONLY = {"catch2", "clang-format", "clang-tidy-16", "shellcheck", "clang", "prometheus",
             "python3-pytest", "dnsmasq-base", "redis-server", "redis-tools",
             "python3-matrix-nio", "pgbouncer", "nginx", "mmdebstrap", "rpm"}


def install_deps_list(*args):
    out = subprocess.run([str(REPO / "scripts" / "install-deps"), "--list", *args],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_first_run_installs_only_what_building_and_running_need():
    build = install_deps_list("--build")
    everything = install_deps_list()
    # What the server needs to build and run is there...
    assert {"build-essential", "meson", "ninja-build", "libpoco-dev", "libpqxx-dev",
            "libvips-dev", "postgresql"} <= build
    # ...and none of the test tools, whose packages bring system services
    # (Redis, PgBouncer, nginx, Prometheus) or take long to install.
    assert not build & TEST_ONLY, build & TEST_ONLY
    # scripts/test and CI install the rest.
    assert build < everything and TEST_ONLY <= everything


def test_scripts_run_asks_only_for_the_build_set():
    text = (REPO / "scripts" / "run").read_text()
    assert '"$REPO/scripts/install-deps" --build' in text
    for script in ("scripts/test", ".ci/run"):
        body = (REPO / script).read_text()
        assert "scripts/install-deps\"" in body or "scripts/install-deps\n" in body, script
        assert "install-deps\" --build" not in body and "install-deps --build" not in body, script
