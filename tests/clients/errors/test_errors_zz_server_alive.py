"""Runs last (file order): after all the bad input above, the server is still up."""

import urllib.request


def test_server_is_still_live(server):
    assert server.alive(), "eltrix exited during the errors suite\n" + server.log_tail()
    with urllib.request.urlopen(server.url + "/health/live", timeout=5) as resp:
        assert resp.status == 200
    with urllib.request.urlopen(server.url + "/health/ready", timeout=5) as resp:
        assert resp.status == 200
