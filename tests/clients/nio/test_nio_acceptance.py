"""acceptance.py (the by-hand walk-through) keeps working against the suite's server."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "acceptance.py"


def test_acceptance_script_passes(server):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--homeserver", server.url, "--timeout", "90"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (f"acceptance.py exited {proc.returncode}\n"
                                  f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    assert "steps passed" in proc.stdout
