"""The dns and kubernetes cluster strategies inside a running node, selected by
environment variables alone: /health shows what they find and how they fail,
/metrics counts it, and a failing source never makes the node unready.

dns runs against a real dnsmasq (scripts/lib/dnsmasq.sh); kubernetes against
tests/cluster/fake_kube_apiserver.py over HTTPS with a throwaway CA."""

import json
import re
import subprocess
import time

import pytest

from conftest import REPO, free_port, http, http_json

DNSMASQ = str(REPO / "scripts" / "lib" / "dnsmasq.sh")
FAKE_API = str(REPO / "tests" / "cluster" / "fake_kube_apiserver.py")
NAME = "nodes.eltrix.test"


def cluster_health(node):
    status, body = http_json("GET", node.url("/health"))
    assert status in (200, 503), body
    return body["components"]["cluster"]


def wait_cluster(node, status, contains, timeout=20):
    deadline = time.monotonic() + timeout
    component = None
    while time.monotonic() < deadline:
        component = cluster_health(node)
        if component["status"] == status and contains in component["detail"]:
            return component
        time.sleep(0.2)
    raise AssertionError(f"cluster stayed {component}, expected {status} with {contains!r}:\n"
                         + node.log()[-3000:])


def metric(node, name, labels):
    _, _, body = http("GET", node.url("/metrics"))
    pattern = re.escape(name) + r"\{([^}]*)\} ([0-9.e+]+)"
    for found_labels, value in re.findall(pattern, body.decode()):
        if all(f'{k}="{v}"' in found_labels for k, v in labels.items()):
            return float(value)
    return None


@pytest.fixture
def dnsmasq(tmp_path):
    directory = tmp_path / "dnsmasq"
    server = subprocess.run([DNSMASQ, "start", str(directory), str(free_port()), NAME,
                             "127.0.0.2", "127.0.0.3", "127.0.0.4"],
                            check=True, capture_output=True, text=True).stdout.strip()

    def set_addresses(*addresses):
        subprocess.run([DNSMASQ, "set", str(directory), NAME, *addresses], check=True,
                       capture_output=True)

    yield server, set_addresses
    subprocess.run([DNSMASQ, "stop", str(directory)], capture_output=True)


def test_dns_strategy_in_a_node(start_node, dnsmasq):
    server, set_addresses = dnsmasq
    node = start_node(ELTRIX_CLUSTER_ENABLED="true", ELTRIX_CLUSTER_STRATEGY="dns",
                      ELTRIX_CLUSTER_PORT=free_port(), ELTRIX_CLUSTER_DNS_NAME=NAME,
                      ELTRIX_CLUSTER_DNS_SERVER=server, ELTRIX_CLUSTER_DNS_POLL_INTERVAL=1)
    node.wait_ready()
    wait_cluster(node, "ok", f"3 peers from {NAME}")
    assert metric(node, "eltrix_cluster_discovery_peers", {"strategy": "dns"}) == 3

    set_addresses("127.0.0.2", "127.0.0.4")
    wait_cluster(node, "ok", "2 peers")

    # The name disappears: the node keeps its peers, says why, stays ready.
    set_addresses()
    component = wait_cluster(node, "degraded", "NXDOMAIN")
    assert "keeping the 2 peers" in component["detail"], component
    assert http("GET", node.url("/health/ready"))[0] == 200
    assert metric(node, "eltrix_cluster_discovery_failures_total",
                  {"strategy": "dns", "reason": "nxdomain"}) >= 1
    assert metric(node, "eltrix_cluster_discovery_peers", {"strategy": "dns"}) == 2

    set_addresses("127.0.0.3")
    wait_cluster(node, "ok", "1 peers")


def test_dns_strategy_config_errors_name_the_key(binary, tmp_path):
    config = tmp_path / "empty.conf"
    config.write_text("")
    env = {"PATH": "/usr/bin:/bin", "ELTRIX_SERVER_NAME": "e2e.test", "ELTRIX_SECRET_KEY": "x" * 48,
           "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "ELTRIX_CLUSTER_ENABLED": "true", "ELTRIX_CLUSTER_STRATEGY": "dns",
           "ELTRIX_CLUSTER_DNS_NAME": "nodes.eltrix.test", "ELTRIX_CLUSTER_DNS_SERVER": "localhost:53"}
    result = subprocess.run([binary, "--config", str(config), "--config=check"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 78, result
    assert "cluster.dns.server = 'localhost:53'" in result.stderr, result.stderr
    assert "ELTRIX_CLUSTER_DNS_SERVER" in result.stderr, result.stderr


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def fake_api(tmp_path):
    d = tmp_path / "kube"
    d.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", str(d / "ca.key"), "-out", str(d / "ca.crt"))
    openssl("req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", str(d / "server.key"),
            "-out", str(d / "server.csr"))
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-days", "2", "-in", str(d / "server.csr"), "-CA", str(d / "ca.crt"),
            "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-extfile", str(d / "ext.cnf"),
            "-out", str(d / "server.crt"))
    (d / "server-token").write_text("the-token\n")
    (d / "token").write_text("the-token\n")
    (d / "namespace").write_text("prod\n")

    def set_pods(pods, version):
        items = []
        for name, ip, ready in pods:
            items.append({
                "metadata": {"name": name, "namespace": "prod", "labels": {"app": "eltrix"}},
                "status": {"phase": "Running", "podIP": ip,
                           "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
            })
        tmp = d / "pods.json.tmp"
        tmp.write_text(json.dumps({"resourceVersion": version, "pods": items}))
        tmp.replace(d / "pods.json")

    set_pods([("eltrix-0", "127.0.0.2", True), ("eltrix-1", "127.0.0.3", True),
              ("eltrix-2", "127.0.0.4", False)], "1")
    proc = subprocess.Popen(["/usr/bin/python3", FAKE_API,
                             "--cert", str(d / "server.crt"), "--key", str(d / "server.key"),
                             "--token-file", str(d / "server-token"),
                             "--pods-file", str(d / "pods.json"), "--port-file", str(d / "port")],
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not (d / "port").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "fake API server did not start"
        time.sleep(0.05)
    port = int((d / "port").read_text())
    yield d, port, set_pods
    proc.terminate()
    proc.wait(timeout=10)


def test_kubernetes_strategy_in_a_node(start_node, fake_api):
    d, port, set_pods = fake_api
    node = start_node(ELTRIX_CLUSTER_ENABLED="true", ELTRIX_CLUSTER_STRATEGY="kubernetes",
                      ELTRIX_CLUSTER_PORT=free_port(),
                      ELTRIX_CLUSTER_KUBERNETES_SELECTOR="app=eltrix",
                      KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=port,
                      ELTRIX_CLUSTER_KUBERNETES_TOKEN_FILE=d / "token",
                      ELTRIX_CLUSTER_KUBERNETES_CA_FILE=d / "ca.crt",
                      ELTRIX_CLUSTER_KUBERNETES_NAMESPACE_FILE=d / "namespace",
                      ELTRIX_CLUSTER_KUBERNETES_POLL_INTERVAL=1)
    node.wait_ready()
    wait_cluster(node, "ok", "2 peers from pods app=eltrix in namespace prod")

    set_pods([("eltrix-0", "127.0.0.2", True), ("eltrix-1", "127.0.0.3", True),
              ("eltrix-2", "127.0.0.4", True)], "2")
    wait_cluster(node, "ok", "3 peers")

    (d / "token").write_text("a-stale-token\n")
    component = wait_cluster(node, "degraded", "HTTP 401")
    assert "keeping the 3 peers" in component["detail"], component
    assert http("GET", node.url("/health/ready"))[0] == 200
    assert metric(node, "eltrix_cluster_discovery_failures_total",
                  {"strategy": "kubernetes", "reason": "http_401"}) >= 1
    assert "a-stale-token" not in node.log() and "the-token" not in node.log()
