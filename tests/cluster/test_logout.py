"""A logout on one node rejects the token on every other node at once, even
with ELTRIX_CACHE_BACKEND=local (each node caching token lookups on its own):
the logout's cache invalidation travels over the cluster mesh."""

from __future__ import annotations

import time

from conftest import gap
from matrix_http import register

# "At once": the invalidation is sent before the logout answers and applied by
# the peer as it arrives; allow the few milliseconds that takes, far below the
# cache TTL (ELTRIX_CACHE_TTL, 3600 s) the token would otherwise live for.
AT_ONCE_S = 0.5


@gap("logout")
def test_logout_on_one_node_rejects_the_token_on_another(cluster, mesh):
    a, c = cluster.nodes[0].url, cluster.nodes[2].url
    user = register(cluster.url)
    # Node C has looked the token up (and cached it, with a local cache).
    for _ in range(2):
        status, body = user.call("GET", "/account/whoami", base=c)
        assert status == 200 and body["user_id"] == user.user_id
    status, _ = user.call("POST", "/logout", {}, base=a)
    assert status == 200
    logged_out = time.monotonic()
    while True:
        status, body = user.call("GET", "/account/whoami", base=c)
        if status == 401:
            break
        assert time.monotonic() - logged_out < AT_ONCE_S, (
            f"node C still accepts the token {AT_ONCE_S}s after the logout on node A "
            f"(cache backend {cluster.cache}): {status} {body}")
        time.sleep(0.01)
    assert body["errcode"] == "M_UNKNOWN_TOKEN"
    # Node B, which had never seen the token, rejects it too.
    status, body = user.call("GET", "/account/whoami", base=cluster.nodes[1].url)
    assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN")
