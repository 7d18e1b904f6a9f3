"""`eltrix keys export | rotate | import`: the server's signing key from a
node's command line. Export writes Synapse's signing.key format (and only
ever to a new file of mode 600), --public prints what the key server
publishes, rotate and import retire the current key (seed erased, public
half kept with an expiry) and a running node signs with the new key within
its server.signing_key_refresh, without a restart."""

import base64
import json
import os
import re
import stat
import subprocess
import time

from admin_client import query_one
from conftest import base_env, free_port, run_eltrix
from cs_client import register, q

SERVER = "e2e.test"
KEY_LINE = re.compile(r"^ed25519 (a_[A-Za-z0-9]{4}|[A-Za-z0-9_]+) ([A-Za-z0-9+/]{43})\n$")


def keys_cli(binary, env, tmp_path, *args, stdin=None):
    config = tmp_path / "keys.conf"
    config.write_text("")
    return subprocess.run([binary, "keys", *args, "--config", str(config)], env=env,
                          capture_output=True, text=True, timeout=30, input=stdin)


def public_keys(binary, env, tmp_path):
    run = keys_cli(binary, env, tmp_path, "export", "--public")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def signer_of(database, event_id):
    pdu = json.loads(query_one(database, f"SELECT pdu FROM events WHERE event_id = '{event_id}'"))
    (key_id,) = pdu["signatures"][SERVER].keys()
    return key_id


def test_keys_export_rotate_import(binary, database, tmp_path, start_node):
    env = base_env(database, tmp_path, free_port())

    # Before any node started: export creates the deployment's key, as a
    # first node would, and prints it in Synapse's format.
    run = keys_cli(binary, env, tmp_path, "export")
    assert run.returncode == 0, run.stderr
    match = KEY_LINE.match(run.stdout)
    assert match, run.stdout
    first = "ed25519:" + match.group(1)
    assert len(base64.b64decode(match.group(2) + "=")) == 32
    published = public_keys(binary, env, tmp_path)
    assert published["server_name"] == SERVER
    assert list(published["verify_keys"]) == [first]
    assert published["old_verify_keys"] == {}
    # The secret is never in what --public prints.
    assert match.group(2) not in json.dumps(published)

    # --output: a new file that only the owner can read; never over a file.
    key_file = tmp_path / "signing.key"
    run = keys_cli(binary, env, tmp_path, "export", "--output", str(key_file))
    assert run.returncode == 0, run.stderr
    assert key_file.read_text() == match.group(0)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    run = keys_cli(binary, env, tmp_path, "export", "--output", str(key_file))
    assert run.returncode == 1 and "never overwritten" in run.stderr
    assert key_file.read_text() == match.group(0)

    node = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false",
                      ELTRIX_SIGNING_KEY_REFRESH="1")
    node.wait_ready()
    alice = register(node, "keyalice")
    room = alice.ok("POST", "/createRoom", {})["room_id"]

    def say(text):
        return alice.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/{time.monotonic_ns()}",
                        {"msgtype": "m.text", "body": text})["event_id"]

    assert signer_of(database, say("before")) == first

    # Rotate while the node runs: the old key is retired with the grace asked for.
    started = time.time()
    run = keys_cli(binary, env, tmp_path, "rotate", "--grace", "300")
    assert run.returncode == 0, run.stderr
    second = re.search(r"(ed25519:\S+) is the signing key now", run.stdout).group(1)
    assert second != first and f"{first} is retired" in run.stdout
    published = public_keys(binary, env, tmp_path)
    assert list(published["verify_keys"]) == [second]
    old = published["old_verify_keys"][first]
    assert old["key"] and started * 1000 + 290_000 < old["expired_ts"] < time.time() * 1000 + 310_000
    assert query_one(database, "SELECT count(*) FROM server_signing_keys WHERE seed IS NOT NULL") == "1"

    # The node notices within its refresh (1 s here), with no restart.
    deadline = time.time() + 10
    while signer_of(database, say("after")) != second:
        assert time.time() < deadline, "the node never switched to the rotated key"
        time.sleep(0.2)

    # Import a Synapse signing.key: it becomes the key, the rotated one retires.
    synapse_key = tmp_path / "synapse.signing.key"
    seed = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    synapse_key.write_text(f"ed25519 a_syn1 {seed}\n")
    run = keys_cli(binary, env, tmp_path, "import", str(synapse_key))
    assert run.returncode == 0, run.stderr
    assert "ed25519:a_syn1 is the signing key now" in run.stdout
    published = public_keys(binary, env, tmp_path)
    assert list(published["verify_keys"]) == ["ed25519:a_syn1"]
    assert set(published["old_verify_keys"]) == {first, second}
    run = keys_cli(binary, env, tmp_path, "export")
    assert run.stdout == f"ed25519 a_syn1 {seed}\n"
    deadline = time.time() + 10
    while signer_of(database, say("imported")) != "ed25519:a_syn1":
        assert time.time() < deadline, "the node never switched to the imported key"
        time.sleep(0.2)

    # Importing the current key again changes nothing; from standard input too.
    run = keys_cli(binary, env, tmp_path, "import", "-", stdin=f"ed25519 a_syn1 {seed}\n")
    assert run.returncode == 0 and "nothing changed" in run.stdout, run.stderr
    # A retired key's ID cannot name a new key (other servers cache by ID).
    run = keys_cli(binary, env, tmp_path, "import", "-",
                   stdin=f"ed25519 {first[8:]} {base64.b64encode(os.urandom(32)).decode()}\n")
    assert run.returncode == 1 and "used by this server before" in run.stderr
    assert list(public_keys(binary, env, tmp_path)["verify_keys"]) == ["ed25519:a_syn1"]


def test_keys_bad_input(binary, database, tmp_path):
    env = base_env(database, tmp_path, free_port())
    bad = tmp_path / "bad.key"
    secret = base64.b64encode(os.urandom(16)).decode()
    bad.write_text(f"ed25519 v1 {secret}\n")
    run = keys_cli(binary, env, tmp_path, "import", str(bad))
    assert run.returncode == 1
    assert f"{bad}: line 1: the seed is 16 bytes, expected 32" in run.stderr
    assert secret not in run.stderr  # a key is never echoed
    run = keys_cli(binary, env, tmp_path, "import", str(tmp_path / "missing.key"))
    assert run.returncode == 1 and "cannot read the key file" in run.stderr

    for args, message in [((), "expected a subcommand"),
                          (("shred",), "unknown subcommand 'shred'"),
                          (("rotate", "--grace", "-5"), "--grace is '-5'"),
                          (("rotate", "--grace", "99999999"), "expected whole seconds"),
                          (("export", "--public", "--output", "x"), "--output is for the secret"),
                          (("import",), "import needs the key file"),
                          (("export", "--grace", "5"), "is not an option of 'keys export'")]:
        run = keys_cli(binary, env, tmp_path, *args) if args else \
            run_eltrix(binary, ["keys"], env)
        assert run.returncode == 64, (args, run.stderr)
        assert message in run.stderr, (args, run.stderr)

    # A configuration error names the key (exit 78), before any key is read.
    run = keys_cli(binary, dict(env, ELTRIX_SIGNING_KEY_REFRESH="0"), tmp_path, "rotate")
    assert run.returncode == 78 and "server.signing_key_refresh" in run.stderr
