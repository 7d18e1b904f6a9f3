"""A third-party plugin built against the installed headers and .pc file only."""

import os
import subprocess
from pathlib import Path

from conftest import REPO, run_eltrix


def test_example_plugin_builds_out_of_tree_and_loads(binary, tmp_path):
    build_dir = Path(binary).resolve().parents[1]
    stage = tmp_path / "stage"
    subprocess.run(["meson", "install", "-C", str(build_dir), "--destdir", str(stage),
                    "--no-rebuild", "--quiet"], check=True, capture_output=True)
    pc = next(stage.rglob("eltrix-plugin.pc"))
    installed_headers = next(stage.rglob("eltrix/plugin/plugin.h"))
    assert installed_headers.is_file()

    out = tmp_path / "plugins"
    out.mkdir()
    env = dict(os.environ, PKG_CONFIG_PATH=str(pc.parent), PKG_CONFIG_SYSROOT_DIR=str(stage))
    # Only the example's own files and the staged install are visible to make.
    build = subprocess.run(["make", "-C", str(REPO / "plugins/examples/db-routing-leastlag"),
                            f"OUT={out}"], env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    assert f"-I{stage}" in build.stdout  # headers came from the staged install

    env = {"PATH": os.environ["PATH"], "ELTRIX_PLUGIN_DIR": str(out)}
    listing = run_eltrix(binary, ["--list-plugins"], env)
    line = next(l for l in listing.stdout.splitlines() if "db-routing-leastlag.so" in l)
    assert line.split()[:5] == ["db-routing", "leastlag", "1.0.0", "1.1", "ok"]

    conf = tmp_path / "eltrix.conf"
    conf.write_text("database.routing = leastlag\ndatabase.leastlag.max_lag_ms = -1\n")
    check = run_eltrix(binary, ["--config", str(conf), "--config=check"], env)
    assert check.returncode == 78
    # the plugin's own key is declared and validated like a core key
    assert "database.leastlag.max_lag_ms = '-1'" in check.stderr
    assert "expected an integer from 0 to 3600000" in check.stderr
