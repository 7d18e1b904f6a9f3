"""A started node: health endpoints, Prometheus metrics, Matrix errors."""

import json
import shutil
import subprocess

from conftest import http, http_json

REQUIRED_METRICS = [
    "eltrix_http_requests_total",
    "eltrix_http_request_duration_seconds",
    "eltrix_sync_connections",
    "eltrix_federation_requests_total",
    "eltrix_db_query_duration_seconds",
    "eltrix_db_pool_connections_in_use",
    "eltrix_db_pool_size",
]


def test_ready_reports_every_component(start_node):
    node = start_node()
    body = node.wait_ready()
    assert body["status"] == "ready"
    status, summary = http_json("GET", node.url("/health"))
    assert status == 200
    for component in ["database", "schema", "cache", "media_store", "db_routing"]:
        assert summary["components"][component]["status"] == "ok", summary
    assert http_json("GET", node.url("/health/live")) == (200, {"status": "ok"})


def test_metrics_pass_promtool_and_name_the_guide_metrics(start_node):
    node = start_node()
    node.wait_ready()
    http("GET", node.url("/no/such/path"))
    status, headers, body = http("GET", node.url("/metrics"))
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    for name in REQUIRED_METRICS:
        assert f"# TYPE {name} " in text, name
    assert 'eltrix_db_pool_size{target="primary"} 10' in text
    assert 'status="404"' in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is required"
    check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_unknown_endpoint_is_m_unrecognized(start_node):
    node = start_node()
    status, headers, body = http("GET", node.url("/_matrix/client/v3/nonexistent"))
    assert status == 404
    assert json.loads(body)["errcode"] == "M_UNRECOGNIZED"
    assert headers.get("X-Request-ID")
    assert headers.get("Access-Control-Allow-Origin") == "*"


def test_request_ids_and_json_logs(start_node):
    node = start_node(ELTRIX_LOG_FORMAT="json")
    http("GET", node.url("/health/live"), headers={"X-Request-ID": "trace-me-42"})
    node.stop()
    lines = [line for line in node.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"ts", "level", "logger", "msg"} <= r.keys() for r in records)
    requests = [r for r in records if r["logger"] == "http" and r.get("request_id") == "trace-me-42"]
    assert requests and requests[0]["path"] == "/health/live"
