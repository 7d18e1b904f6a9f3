"""The deployment examples (issue 15): packaging/kubernetes/*.yaml and
packaging/compose/*.yaml parse, hang together (selectors, names, ports), use
the health endpoints the way docs/scaling.md says, and set only environment
variables the server knows (checked against `eltrix --config=default`)."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO

KUBE = REPO / "packaging" / "kubernetes"
COMPOSE = REPO / "packaging" / "compose"
# Variables the examples set for other programs (PostgreSQL, MinIO, PgBouncer).
FOREIGN_PREFIXES = ("POSTGRES_", "MINIO_", "POOL_MODE", "MAX_CLIENT_CONN", "DEFAULT_POOL_SIZE",
                    "AUTH_TYPE")


def load_all(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


@pytest.fixture(scope="module")
def kube():
    docs = []
    for path in sorted(KUBE.glob("*.yaml")):
        docs += load_all(path)
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


@pytest.fixture(scope="module")
def known_env(binary):
    out = subprocess.run([binary, "--config=default"], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout
    names = set(re.findall(r"Environment: (\S+)", out))
    names |= set(re.findall(r"\b((?:ELTRIX|DATABASE|REDIS)_[A-Z0-9_]+)\b", out))
    assert "ELTRIX_SERVER_NAME" in names and "ELTRIX_S3_BUCKET" in names, "no env names found"
    return names


def eltrix_container(deployment):
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "eltrix")


def test_every_kubernetes_file_parses_and_names_its_kind():
    files = sorted(KUBE.glob("*.yaml"))
    assert {p.name for p in files} >= {"eltrix-cluster.yaml", "eltrix-deployment.yaml",
                                        "eltrix-hpa.yaml", "pgbouncer.yaml"}
    for path in files:
        for doc in load_all(path):
            assert doc.get("apiVersion") and doc.get("kind"), path
            assert doc["metadata"]["name"], path


def test_deployment_probes_resources_and_user(kube):
    dep = kube[("Deployment", "eltrix")]
    c = eltrix_container(dep)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http": 8008, "cluster": 8009}
    assert c["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    # A database outage must not restart every pod: liveness is not readiness.
    assert c["livenessProbe"]["httpGet"]["path"] != "/health/ready"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind]), kind
    pod = dep["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["serviceAccountName"] == "eltrix"
    # Drain on SIGTERM fits in the grace period.
    assert pod["terminationGracePeriodSeconds"] >= 30
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_deployment_env_is_the_scaling_guides(kube, known_env):
    c = eltrix_container(kube[("Deployment", "eltrix")])
    env = {e["name"]: e.get("value") for e in c["env"]}
    for name in env:
        assert name in known_env, f"{name} is not a setting eltrix knows"
    assert env["ELTRIX_CLUSTER_STRATEGY"] == "kubernetes"
    assert env["ELTRIX_CLUSTER_KUBERNETES_SELECTOR"] == "app=eltrix"
    assert env["ELTRIX_CACHE_BACKEND"] == "redis" and env["ELTRIX_MEDIA_STORE"] == "s3"
    # The selector the strategy lists pods by matches the pods.
    key, value = env["ELTRIX_CLUSTER_KUBERNETES_SELECTOR"].split("=")
    assert kube[("Deployment", "eltrix")]["spec"]["template"]["metadata"]["labels"][key] == value
    # Secrets come from a Secret, not from the manifest.
    assert "ELTRIX_SECRET_KEY" not in env and "DATABASE_URL" not in env
    assert c["envFrom"][0]["secretRef"]["name"] == "eltrix"


def test_pdb_hpa_services_and_rbac(kube):
    labels = kube[("Deployment", "eltrix")]["spec"]["template"]["metadata"]["labels"]
    pdb = kube[("PodDisruptionBudget", "eltrix")]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1

    hpa = kube[("HorizontalPodAutoscaler", "eltrix")]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "eltrix"}
    # The guide: 5 replicas, scaled 5-20; add nodes above 70 % CPU.
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (5, 20)
    assert kube[("Deployment", "eltrix")]["spec"]["replicas"] == 5
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["averageUtilization"] == 70

    headless = kube[("Service", "eltrix-headless")]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["selector"].items() <= labels.items()
    service = kube[("Service", "eltrix")]
    assert service["spec"]["selector"].items() <= labels.items()

    role = kube[("Role", "eltrix-peer-discovery")]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    binding = kube[("RoleBinding", "eltrix-peer-discovery")]
    assert binding["subjects"][0]["name"] == "eltrix"
    assert ("ServiceAccount", "eltrix") in kube


def test_pgbouncer_example_is_transaction_mode(kube):
    ini = kube[("ConfigMap", "eltrix-pgbouncer")]["data"]["pgbouncer.ini"]
    assert re.search(r"^pool_mode = transaction$", ini, re.M)
    assert re.search(r"^listen_port = 6432$", ini, re.M)
    svc = kube[("Service", "eltrix-pgbouncer")]
    assert svc["spec"]["ports"][0]["port"] == 6432


def compose(name):
    doc = yaml.safe_load((COMPOSE / f"{name}.yaml").read_text())
    return doc, doc["services"]["eltrix"]


def check_env(env, known_env):
    for name in env:
        if name.startswith(FOREIGN_PREFIXES):
            continue
        assert name in known_env, f"{name} is not a setting eltrix knows"


def test_compose_small(known_env):
    doc, eltrix = compose("small")
    env = eltrix["environment"]
    check_env(env, known_env)
    assert (env["ELTRIX_POOL_SIZE"], env["ELTRIX_WORKERS"]) == (15, 4)
    assert eltrix["deploy"]["resources"]["limits"] == {"cpus": "4", "memory": "4G"}
    assert "/health/ready" in " ".join(eltrix["healthcheck"]["test"])
    assert set(doc["services"]) == {"postgres", "eltrix"}


@pytest.mark.parametrize("name,replicas", [("medium", 3), ("large", 5)])
def test_compose_medium_and_large(known_env, name, replicas):
    doc, eltrix = compose(name)
    env = eltrix["environment"]
    check_env(env, known_env)
    assert eltrix["deploy"]["replicas"] == replicas
    assert env["ELTRIX_POOL_SIZE"] == 20
    assert (env["ELTRIX_CACHE_BACKEND"], env["REDIS_URL"]) == ("redis", "redis://redis:6379")
    assert env["ELTRIX_MEDIA_STORE"] == "s3" and env["ELTRIX_S3_ENDPOINT"] == "http://minio:9000"
    assert env["ELTRIX_CLUSTER_STRATEGY"] == "dns" and env["ELTRIX_CLUSTER_DNS_NAME"] == "eltrix"
    services = set(doc["services"])
    assert {"postgres", "redis", "minio", "eltrix", "nginx"} <= services
    if name == "large":
        assert "pgbouncer" in services
        assert "@pgbouncer:6432/" in env["DATABASE_URL"]
        assert doc["services"]["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    else:
        assert "@postgres/" in env["DATABASE_URL"]
