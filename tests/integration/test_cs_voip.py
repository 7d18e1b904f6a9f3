"""Client-Server API, "Voice over IP" (spec v1.12, section 11.3): GET
/voip/turnServer with ELTRIX_TURN_URIS and ELTRIX_TURN_SHARED_SECRET, whose
credentials are what coturn's use-auth-secret checks: username
"<expiry>:<user_id>", password base64(HMAC-SHA1(secret, username)). Without
configuration the answer is 200 {}, as Synapse gives. Real binary, real
PostgreSQL."""

import base64
import hashlib
import hmac
import time

import pytest

from cs_client import register


@pytest.fixture
def turn_node(start_node):
    n = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false",
                   ELTRIX_TURN_URIS="turn:turn.e2e.test:3478?transport=udp, "
                                    "turns:turn.e2e.test:5349?transport=tcp",
                   ELTRIX_TURN_SHARED_SECRET="coturn static-auth-secret",
                   ELTRIX_TURN_TTL="600")
    n.wait_ready()
    return n


def test_credentials_as_coturn_checks_them(turn_node):
    alice = register(turn_node, "alice")
    out = alice.ok("GET", "/voip/turnServer")
    assert out["uris"] == ["turn:turn.e2e.test:3478?transport=udp",
                           "turns:turn.e2e.test:5349?transport=tcp"]
    assert out["ttl"] == 600
    expiry, user = out["username"].split(":", 1)
    assert user == alice.user_id
    assert abs(int(expiry) - (time.time() + 600)) < 30
    expected = base64.b64encode(hmac.new(b"coturn static-auth-secret",
                                         out["username"].encode(), hashlib.sha1).digest())
    assert out["password"] == expected.decode()


def test_unconfigured_answers_empty(node):
    alice = register(node, "alice")
    assert alice.ok("GET", "/voip/turnServer") == {}
    # Authenticated, as the spec requires.
    alice.token = "wrong"
    alice.error(401, "M_UNKNOWN_TOKEN", "GET", "/voip/turnServer")
