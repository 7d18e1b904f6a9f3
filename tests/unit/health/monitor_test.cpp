#include "health/monitor.h"
#include "http/server.h"
#include "metrics/registry.h"
#include "unit/http/test_client.h"

#include <Poco/JSON/Parser.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <regex>
#include <thread>

using namespace eltrix;
using plugin::Health;
using plugin::HealthStatus;

namespace {

http::ServerOptions local_options() {
  http::ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.workers = 2;
  return options;
}

Poco::JSON::Object::Ptr parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

/// A component whose health a test sets; counts how often it is checked.
struct FakeComponent {
  std::mutex m;
  Health health{HealthStatus::ok, "fine"};
  std::atomic<int> checks{0};
  bool throws = false;
  void set(HealthStatus s, std::string detail) {
    std::lock_guard lock(m);
    health = {s, std::move(detail)};
  }
  std::function<Health()> check() {
    return [this] {
      ++checks;
      std::lock_guard lock(m);
      if (throws) throw std::runtime_error("connection refused (port 5432)");
      return health;
    };
  }
};

double gauge(metrics::Registry& r, const std::string& name, const std::string& help,
             const metrics::Labels& labels = {}) {
  return r.gauge(name, help, labels).value();
}

constexpr const char* kStatusHelp = "Health of each component: 0 ok, 1 degraded, 2 failed.";

}  // namespace

TEST_CASE("ready follows critical failures and draining, not degradation", "[health]") {
  metrics::Registry registry;
  health::Monitor monitor(registry, std::chrono::milliseconds(50));
  FakeComponent db;
  FakeComponent cache;
  monitor.add("database", db.check(), true);
  monitor.add("cache", cache.check(), false);

  // Nothing checked yet: not ready.
  CHECK_FALSE(monitor.ready());
  monitor.check_now();
  CHECK(monitor.ready());
  CHECK(gauge(registry, "eltrix_ready", "1 if the node is ready to take traffic, else 0.") == 1);

  cache.set(HealthStatus::failed, "redis down");
  monitor.check_now();
  CHECK(monitor.ready());  // non-critical
  CHECK(gauge(registry, "eltrix_health_component_status", kStatusHelp, {{"component", "cache"}}) ==
        2);

  db.set(HealthStatus::degraded, "replica lagging");
  monitor.check_now();
  CHECK(monitor.ready());  // degraded never makes not-ready
  CHECK(gauge(registry, "eltrix_health_component_status", kStatusHelp,
              {{"component", "database"}}) == 1);

  db.set(HealthStatus::failed, "primary unreachable");
  monitor.check_now();
  CHECK_FALSE(monitor.ready());
  CHECK(gauge(registry, "eltrix_ready", "1 if the node is ready to take traffic, else 0.") == 0);

  db.set(HealthStatus::ok, "");
  monitor.check_now();
  CHECK(monitor.ready());
  monitor.set_draining(true);
  CHECK_FALSE(monitor.ready());
  CHECK(monitor.draining());
  CHECK(gauge(registry, "eltrix_ready", "1 if the node is ready to take traffic, else 0.") == 0);

  // A check that throws counts as failed, with the exception text.
  monitor.set_draining(false);
  db.throws = true;
  monitor.check_now();
  CHECK_FALSE(monitor.ready());
  auto snap = monitor.snapshot();
  REQUIRE(snap.size() == 2);
  CHECK(snap[0].name == "database");
  CHECK(snap[0].status == HealthStatus::failed);
  CHECK(snap[0].detail == "connection refused (port 5432)");
  CHECK(snap[0].critical);
  CHECK(snap[0].check_seconds >= 0);
  CHECK(std::chrono::system_clock::now() - snap[0].checked_at < std::chrono::seconds(5));
}

TEST_CASE("checks run in the background thread and alive() notices a stall", "[health]") {
  metrics::Registry registry;
  health::Monitor monitor(registry, std::chrono::milliseconds(20), std::chrono::milliseconds(100));
  FakeComponent db;
  std::atomic<bool> hang{false};
  std::mutex hang_mutex;
  monitor.add("database", db.check(), true);
  monitor.add(
      "slow",
      [&]() -> Health {
        while (hang.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return {HealthStatus::ok, ""};
      },
      false);
  monitor.start();
  for (int i = 0; i < 200 && db.checks < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(db.checks >= 3);
  CHECK(monitor.ready());
  CHECK(monitor.alive());

  // The background thread picks up a failure without anyone asking.
  db.set(HealthStatus::failed, "down");
  for (int i = 0; i < 200 && monitor.ready(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(monitor.ready());

  // A check that hangs stalls the round: after max_silence the monitor is not alive.
  hang = true;
  for (int i = 0; i < 200 && monitor.alive(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(monitor.alive());
  hang = false;
  for (int i = 0; i < 200 && !monitor.alive(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(monitor.alive());
  monitor.stop();
  const int after_stop = db.checks;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(db.checks == after_stop);
}

TEST_CASE("health endpoints over HTTP", "[health]") {
  metrics::Registry registry;
  health::Monitor monitor(registry, std::chrono::milliseconds(50));
  FakeComponent db;
  FakeComponent cache;
  monitor.add("database", db.check(), true);
  monitor.add("cache", cache.check(), false);
  monitor.check_now();

  http::Router router;
  health::add_routes(router, monitor, registry, "1.2.3-test");
  http::Server server(local_options(), router, registry);
  server.start();
  const auto port = server.port();

  auto r = test::get(port, "/health/live");
  CHECK(r.status == 200);
  CHECK(parse(r.body)->getValue<std::string>("status") == "ok");

  r = test::get(port, "/health/ready");
  CHECK(r.status == 200);
  auto o = parse(r.body);
  CHECK(o->getValue<std::string>("status") == "ready");
  CHECK(o->getObject("components")->getObject("database")->getValue<std::string>("status") == "ok");

  r = test::get(port, "/health");
  CHECK(r.status == 200);
  o = parse(r.body);
  CHECK(o->getValue<std::string>("status") == "ok");
  CHECK(o->getValue<std::string>("version") == "1.2.3-test");
  auto dbj = o->getObject("components")->getObject("database");
  CHECK(dbj->getValue<std::string>("status") == "ok");
  CHECK(dbj->getValue<std::string>("detail") == "fine");
  CHECK(dbj->getValue<bool>("critical") == true);
  CHECK(std::regex_match(dbj->getValue<std::string>("checked_at"),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  CHECK(dbj->getValue<double>("check_seconds") >= 0);

  // Degraded: still 200 and ready.
  cache.set(HealthStatus::degraded, "redis slow");
  monitor.check_now();
  r = test::get(port, "/health");
  CHECK(r.status == 200);
  CHECK(parse(r.body)->getValue<std::string>("status") == "degraded");
  CHECK(test::get(port, "/health/ready").status == 200);

  // A critical failure: 503 naming it.
  db.set(HealthStatus::failed, "primary unreachable");
  const int checks_before = db.checks;
  monitor.check_now();
  r = test::get(port, "/health/ready");
  CHECK(r.status == 503);
  o = parse(r.body);
  CHECK(o->getValue<std::string>("status") == "not_ready");
  REQUIRE(o->getArray("failed")->size() == 1);
  CHECK(o->getArray("failed")->getElement<std::string>(0) == "database");
  CHECK(o->getValue<bool>("draining") == false);
  CHECK(o->getObject("components")->getObject("database")->getValue<std::string>("detail") ==
        "primary unreachable");
  r = test::get(port, "/health");
  CHECK(r.status == 503);
  CHECK(parse(r.body)->getValue<std::string>("status") == "failed");
  // Requests never run checks.
  for (int i = 0; i < 5; ++i) test::get(port, "/health/ready");
  CHECK(db.checks == checks_before + 1);

  // Draining: not ready, even with every component fine.
  db.set(HealthStatus::ok, "");
  cache.set(HealthStatus::ok, "");
  monitor.check_now();
  CHECK(test::get(port, "/health/ready").status == 200);
  monitor.set_draining(true);
  r = test::get(port, "/health/ready");
  CHECK(r.status == 503);
  o = parse(r.body);
  CHECK(o->getValue<bool>("draining") == true);
  CHECK(o->getArray("failed")->size() == 0);
  r = test::get(port, "/health");
  CHECK(r.status == 503);
  CHECK(parse(r.body)->getValue<std::string>("status") == "draining");
  CHECK(test::get(port, "/health/live").status == 200);  // still alive

  // /metrics: Prometheus text with the health and HTTP series.
  r = test::get(port, "/metrics");
  CHECK(r.status == 200);
  CHECK(r.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r.body.find("eltrix_health_component_status{component=\"database\"} 0\n") !=
        std::string::npos);
  CHECK(r.body.find("eltrix_health_check_duration_seconds{component=\"cache\"} ") !=
        std::string::npos);
  CHECK(r.body.find("eltrix_ready 0\n") != std::string::npos);
  CHECK(r.body.find(
            "eltrix_http_requests_total{method=\"GET\",route=\"/health/ready\",status=\"503\"}") !=
        std::string::npos);
  auto [status, output] = test::promtool_check(r.body);
  INFO(output);
  CHECK(status == 0);
}

TEST_CASE("live reports 503 when the monitor thread stalls", "[health]") {
  metrics::Registry registry;
  health::Monitor monitor(registry, std::chrono::milliseconds(20), std::chrono::milliseconds(100));
  std::atomic<bool> hang{true};
  monitor.add(
      "stuck",
      [&]() -> Health {
        while (hang.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return {};
      },
      false);
  http::Router router;
  health::add_routes(router, monitor, registry, "v");
  http::Server server(local_options(), router, registry);
  server.start();
  monitor.start();
  test::HttpResult r;
  for (int i = 0; i < 100; ++i) {
    r = test::get(server.port(), "/health/live");
    if (r.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(r.status == 503);
  CHECK(parse(r.body)->getValue<std::string>("status") == "stalled");
  hang = false;
  monitor.stop();
}
