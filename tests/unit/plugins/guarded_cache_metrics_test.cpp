// GuardedCache's metrics: hits, misses and errors are counted once, by the
// core, for whatever cache plugin is configured; a failing cache reads as a
// miss to callers but is counted as an error, not a miss.
#include "plugins/guarded_cache.h"

#include "config/static_config.h"
#include "metrics/registry.h"
#include "plugins/registry.h"

#include <catch2/catch.hpp>

#include <eltrix/plugin/plugin.h>

#include <atomic>
#include <map>
#include <mutex>

using namespace eltrix;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> g_failing{false};

/// A map that throws Error(transient) from every call while g_failing is set.
class FlakyCache : public plugin::Cache {
 public:
  static constexpr bool kThreadSafe = true;
  static constexpr const char* kDescription = "a map that fails on demand";
  FlakyCache(plugin::Host& /*host*/, const plugin::Config& /*config*/) {}
  plugin::Health health() override { return {}; }
  std::optional<std::string> get(std::string_view key) override {
    fail_if_asked();
    std::lock_guard lock(mutex_);
    auto it = values_.find(std::string(key));
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  void set(std::string_view key, std::string_view value, std::chrono::seconds) override {
    fail_if_asked();
    std::lock_guard lock(mutex_);
    values_[std::string(key)] = std::string(value);
  }
  bool erase(std::string_view key) override {
    fail_if_asked();
    std::lock_guard lock(mutex_);
    return values_.erase(std::string(key)) > 0;
  }
  std::int64_t increment(std::string_view, std::int64_t delta, std::chrono::seconds) override {
    fail_if_asked();
    return delta;
  }

 private:
  static void fail_if_asked() {
    if (g_failing.load()) throw plugin::Error(plugin::ErrorKind::transient, "backend down");
  }
  std::mutex mutex_;
  std::map<std::string, std::string> values_;
};

constexpr plugin::ConfigKeySpec kNoKeys[] = {{.name = "cache.flaky.unused", .help = "Unused."}};
constexpr plugin::Descriptor kFlaky =
    plugin::detail::make_descriptor<plugin::Kind::cache, FlakyCache>("flaky", "1.0", kNoKeys);

/// The value of one series, read from the text exposition (as a scraper would).
double value(metrics::Registry& metrics, const std::string& series) {
  const std::string text = metrics.render();
  const std::string wanted = "\n" + series + " ";
  auto at = text.find(wanted);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + wanted.size()));
}

}  // namespace

TEST_CASE("GuardedCache counts hits, misses and errors once", "[plugins][cache]") {
  metrics::Registry metrics;
  plugins::Registry registry(metrics);
  registry.add_descriptor(kFlaky, "test");
  config::StaticConfig config;
  auto instance = registry.create<plugin::Cache>("flaky", config);
  plugins::GuardedCache cache(instance, metrics);

  CHECK_FALSE(cache.get("k").has_value());
  cache.set("k", "v", 60s);
  CHECK(cache.get("k") == std::optional<std::string>("v"));
  CHECK(cache.get("k") == std::optional<std::string>("v"));
  CHECK(value(metrics, "eltrix_cache_hits_total") == 2);
  CHECK(value(metrics, "eltrix_cache_misses_total") == 1);

  g_failing = true;
  CHECK_FALSE(cache.get("k").has_value());  // a failure reads as a miss to the caller...
  cache.set("k", "w", 60s);                 // ...and writes are dropped, not thrown
  CHECK_FALSE(cache.erase("k"));
  CHECK_THROWS_AS(cache.increment("n", 1, 60s), plugin::Error);
  g_failing = false;
  // ...but is counted as an error, not as a miss.
  CHECK(value(metrics, "eltrix_cache_misses_total") == 1);
  CHECK(value(metrics, "eltrix_cache_hits_total") == 2);
  CHECK(value(metrics, R"(eltrix_cache_errors_total{op="get"})") == 1);
  CHECK(value(metrics, R"(eltrix_cache_errors_total{op="set"})") == 1);
  CHECK(value(metrics, R"(eltrix_cache_errors_total{op="erase"})") == 1);
  CHECK(value(metrics, R"(eltrix_cache_errors_total{op="increment"})") == 1);
  CHECK(cache.get("k") == std::optional<std::string>("v"));
}
