#include "metrics/registry.h"
#include "unit/http/test_client.h"

#include <eltrix/plugin/error.h>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

using eltrix::metrics::Labels;
using eltrix::metrics::Registry;
using eltrix::metrics::Type;

namespace {

/// The value on the line that starts with `series` ("name{labels}"), or NaN.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nan("");
}

bool has_line(const std::string& text, const std::string& wanted) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line == wanted) return true;
  }
  return false;
}

void require_invalid(const std::function<void()>& fn, const std::string& must_mention) {
  try {
    fn();
    FAIL("expected plugin::Error(invalid_argument)");
  } catch (const eltrix::plugin::Error& e) {
    CHECK(e.kind() == eltrix::plugin::ErrorKind::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains(must_mention));
  }
}

}  // namespace

TEST_CASE("same name and labels return the same object", "[metrics]") {
  Registry r;
  auto& a = r.counter("eltrix_test_total", "Help.", {{"x", "1"}, {"y", "2"}});
  auto& b = r.counter("eltrix_test_total", "Help.", {{"y", "2"}, {"x", "1"}});
  auto& c = r.counter("eltrix_test_total", "Help.", {{"x", "1"}, {"y", "3"}});
  CHECK(&a == &b);
  CHECK(&a != &c);
  // References stay valid while many more series are added.
  for (int i = 0; i < 1000; ++i)
    r.counter("eltrix_test_total", "Help.", {{"x", "1"}, {"y", std::to_string(100 + i)}});
  a.inc(2);
  CHECK(r.counter("eltrix_test_total", "Help.", {{"x", "1"}, {"y", "2"}}).value() == 2);
}

TEST_CASE("counters and gauges render their values", "[metrics]") {
  Registry r;
  auto& c = r.counter("eltrix_requests_total", "Requests served.", {{"code", "200"}});
  c.inc();
  c.inc(2.5);
  c.inc(-4);  // ignored: counters never go down
  c.inc(std::nan(""));
  CHECK(c.value() == 3.5);
  auto& g = r.gauge("eltrix_pool_in_use", "Connections in use.");
  g.set(7);
  g.add(-2);
  g.add(0.5);
  CHECK(g.value() == 5.5);

  const std::string text = r.render();
  CHECK(has_line(text, "# HELP eltrix_requests_total Requests served."));
  CHECK(has_line(text, "# TYPE eltrix_requests_total counter"));
  CHECK(has_line(text, "eltrix_requests_total{code=\"200\"} 3.5"));
  CHECK(has_line(text, "# TYPE eltrix_pool_in_use gauge"));
  CHECK(has_line(text, "eltrix_pool_in_use 5.5"));
  // Families come out sorted by name.
  CHECK(text.find("eltrix_pool_in_use") < text.find("eltrix_requests_total"));
}

TEST_CASE("histograms render cumulative buckets, sum and count", "[metrics]") {
  Registry r;
  auto& h = r.histogram("eltrix_latency_seconds", "Latency.", {{"route", "/x"}});
  for (double v : {0.0005, 0.003, 0.003, 0.2, 20.0}) h.observe(v);
  CHECK(h.count() == 5);
  CHECK(h.sum() == Approx(20.2065));

  const std::string text = r.render();
  CHECK(has_line(text, "# TYPE eltrix_latency_seconds histogram"));
  CHECK(sample(text, "eltrix_latency_seconds_bucket{route=\"/x\",le=\"0.001\"}") == 1);
  CHECK(sample(text, "eltrix_latency_seconds_bucket{route=\"/x\",le=\"0.0025\"}") == 1);
  CHECK(sample(text, "eltrix_latency_seconds_bucket{route=\"/x\",le=\"0.005\"}") == 3);
  CHECK(sample(text, "eltrix_latency_seconds_bucket{route=\"/x\",le=\"0.25\"}") == 4);
  CHECK(sample(text, "eltrix_latency_seconds_bucket{route=\"/x\",le=\"10\"}") == 4);
  CHECK(sample(text, "eltrix_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"}") == 5);
  CHECK(sample(text, "eltrix_latency_seconds_count{route=\"/x\"}") == 5);
  CHECK(sample(text, "eltrix_latency_seconds_sum{route=\"/x\"}") == Approx(20.2065));

  // A value equal to a bound lands in that bucket (le = "less or equal").
  const double bounds[] = {1, 2};
  auto& custom = r.histogram("eltrix_sizes", "Sizes.", {}, bounds);
  custom.observe(1);
  custom.observe(2);
  custom.observe(3);
  const std::string t2 = r.render();
  CHECK(sample(t2, "eltrix_sizes_bucket{le=\"1\"}") == 1);
  CHECK(sample(t2, "eltrix_sizes_bucket{le=\"2\"}") == 2);
  CHECK(sample(t2, "eltrix_sizes_bucket{le=\"+Inf\"}") == 3);
  // Empty buckets reuse the family's; different ones are a conflict.
  CHECK(&r.histogram("eltrix_sizes", "Sizes.") == &custom);
  const double other[] = {1, 5};
  require_invalid([&] { r.histogram("eltrix_sizes", "Sizes.", {}, other); }, "eltrix_sizes");
}

TEST_CASE("default latency buckets", "[metrics]") {
  auto b = eltrix::metrics::default_latency_buckets();
  const std::vector<double> expected = {.001, .0025, .005, .01, .025, .05, .1,
                                        .25,  .5,    1,    2.5, 5,    10};
  CHECK(std::vector<double>(b.begin(), b.end()) == expected);
}

TEST_CASE("invalid names, labels and conflicts are rejected", "[metrics]") {
  Registry r;
  require_invalid([&] { r.counter("1bad", "x"); }, "1bad");
  require_invalid([&] { r.counter("bad-name", "x"); }, "bad-name");
  require_invalid([&] { r.counter("", "x"); }, "invalid metric name");
  require_invalid([&] { r.gauge("eltrix_ok", "x", {{"bad-label", "v"}}); }, "bad-label");
  require_invalid([&] { r.gauge("eltrix_ok", "x", {{"__reserved", "v"}}); }, "__reserved");
  require_invalid([&] { r.gauge("eltrix_ok", "x", {{"a", "1"}, {"a", "2"}}); }, "duplicate");
  require_invalid([&] { r.histogram("eltrix_h", "x", {{"le", "1"}}); }, "le");
  require_invalid([&] { r.gauge("eltrix_ok", "x", {{"a", "\xff\xfe"}}); }, "UTF-8");

  r.counter("eltrix_thing_total", "Things.");
  require_invalid([&] { r.gauge("eltrix_thing_total", "Things."); }, "eltrix_thing_total");
  require_invalid([&] { r.counter("eltrix_thing_total", "Other help."); }, "eltrix_thing_total");

  r.gauge("eltrix_labelled", "L.", {{"a", "1"}});
  require_invalid([&] { r.gauge("eltrix_labelled", "L.", {{"b", "1"}}); }, "eltrix_labelled");

  r.histogram("eltrix_req_seconds", "R.");
  require_invalid([&] { r.counter("eltrix_req_seconds_count", "C."); }, "eltrix_req_seconds");
  const double unsorted[] = {2, 1};
  require_invalid([&] { r.histogram("eltrix_h2", "x", {}, unsorted); }, "increasing");

  // Names with colons and underscores are fine.
  CHECK_NOTHROW(r.counter("eltrix:recorded_rule:rate5m", "Colons are allowed."));
  CHECK_NOTHROW(r.counter("_underscore", "Leading underscore."));
}

TEST_CASE("label values and help text are escaped", "[metrics]") {
  Registry r;
  r.counter("eltrix_escape_total", "Line one\nback\\slash \"quotes\" stay.",
            {{"path", "a\\b\"c\nd"}})
      .inc();
  const std::string text = r.render();
  CHECK(has_line(text, "# HELP eltrix_escape_total Line one\\nback\\\\slash \"quotes\" stay."));
  CHECK(has_line(text, "eltrix_escape_total{path=\"a\\\\b\\\"c\\nd\"} 1"));
  auto [status, output] = eltrix::test::promtool_check(text);
  INFO(output);
  CHECK(status == 0);
}

TEST_CASE("describe renders a family without series; collectors run on render", "[metrics]") {
  Registry r;
  r.describe("eltrix_errors_total", "Errors by kind.", Type::counter);
  std::string text = r.render();
  CHECK(has_line(text, "# HELP eltrix_errors_total Errors by kind."));
  CHECK(has_line(text, "# TYPE eltrix_errors_total counter"));
  // Registering a series later agrees with the description.
  r.counter("eltrix_errors_total", "Errors by kind.", {{"kind", "x"}}).inc();
  require_invalid([&] { r.describe("eltrix_errors_total", "Errors by kind.", Type::gauge); },
                  "eltrix_errors_total");

  int runs = 0;
  auto& g = r.gauge("eltrix_refreshed", "Refreshed by a collector.");
  r.add_collector([&] {
    ++runs;
    g.set(runs * 10);
    // Collectors may register metrics.
    r.gauge("eltrix_from_collector", "Registered while collecting.").set(1);
  });
  text = r.render();
  CHECK(runs == 1);
  CHECK(has_line(text, "eltrix_refreshed 10"));
  CHECK(has_line(text, "eltrix_from_collector 1"));
  text = r.render();
  CHECK(runs == 2);
  CHECK(has_line(text, "eltrix_refreshed 20"));
}

TEST_CASE("updates from many threads are not lost", "[metrics]") {
  Registry r;
  auto& c = r.counter("eltrix_concurrent_total", "C.");
  auto& g = r.gauge("eltrix_concurrent", "G.");
  auto& h = r.histogram("eltrix_concurrent_seconds", "H.");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        c.inc(0.5);
        g.add(1);
        h.observe(0.01);
      }
    });
  }
  // Renders while updating must not crash or block the writers.
  for (int i = 0; i < 20; ++i) (void)r.render();
  for (auto& t : threads) t.join();
  CHECK(c.value() == kThreads * kPerThread * 0.5);
  CHECK(g.value() == kThreads * kPerThread);
  CHECK(h.count() == static_cast<std::uint64_t>(kThreads * kPerThread));
  CHECK(h.sum() == Approx(kThreads * kPerThread * 0.01));
}

TEST_CASE("process metrics come from /proc/self", "[metrics]") {
  Registry r;
  eltrix::metrics::register_process_metrics(r);
  eltrix::metrics::register_process_metrics(r);  // harmless twice
  // Burn a little CPU so the counter is above zero.
  volatile double x = 0;
  for (int i = 0; i < 5000000; ++i) x = x + std::sqrt(static_cast<double>(i));
  const std::string text = r.render();
  CHECK(sample(text, "process_resident_memory_bytes") > 1024 * 1024);
  CHECK(sample(text, "process_virtual_memory_bytes") >
        sample(text, "process_resident_memory_bytes"));
  const double fds = sample(text, "process_open_fds");
  CHECK(fds >= 3);
  CHECK(sample(text, "process_max_fds") >= fds);
  const double cpu = sample(text, "process_cpu_seconds_total");
  CHECK(cpu > 0);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double start = sample(text, "process_start_time_seconds");
  CHECK(start <= now + 1);
  CHECK(start > now - 24 * 3600 * 365);
  // Opening a file shows up in process_open_fds.
  const int fd = dup(0);
  CHECK(sample(r.render(), "process_open_fds") == fds + 1);
  close(fd);
  // Two collectors do not double-count the CPU counter.
  CHECK(sample(r.render(), "process_cpu_seconds_total") < cpu + 1);
  auto [status, output] = eltrix::test::promtool_check(r.render());
  INFO(output);
  CHECK(status == 0);
}

TEST_CASE("promtool accepts a full render", "[metrics]") {
  Registry r;
  eltrix::metrics::register_process_metrics(r);
  r.counter("eltrix_http_requests_total", "HTTP requests.", {{"method", "GET"}, {"status", "200"}})
      .inc(3);
  r.counter("eltrix_http_requests_total", "HTTP requests.", {{"method", "PUT"}, {"status", "404"}})
      .inc();
  r.gauge("eltrix_db_pool_in_use", "Pool connections in use.", {{"target", "primary"}}).set(4);
  auto& h = r.histogram("eltrix_db_query_duration_seconds", "Query time.", {{"target", "primary"}});
  h.observe(0.002);
  h.observe(1.5);
  r.describe("eltrix_cache_errors_total", "Cache errors.", Type::counter);
  r.gauge("eltrix_unicode", "Ünïcödé help ✓.", {{"room", "#café:example.org"}}).set(-1.25e-7);
  const std::string text = r.render();
  auto [status, output] = eltrix::test::promtool_check(text);
  INFO(text);
  INFO(output);
  CHECK(status == 0);
}
