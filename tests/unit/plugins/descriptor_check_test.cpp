// The ABI rules, applied to descriptors in memory; and the registry's
// handling of in-process plugins.
#include "plugins/descriptor_check.h"
#include "config/static_config.h"
#include "metrics/registry.h"
#include "plugins/registry.h"

#include <catch2/catch.hpp>

#include <atomic>

using namespace eltrix;
using Catch::Matchers::Contains;

namespace {

std::atomic<int> g_live{0};

class CountingCache : public plugin::Cache {
 public:
  static constexpr bool kThreadSafe = true;
  static constexpr const char* kDescription = "counts its instances";
  CountingCache(plugin::Host& host, const plugin::Config& config)
      : prefix_(config.get_string("cache.counting.prefix", "p:")) {
    host.counter("eltrix_test_counting_created_total", "Instances created.").inc();
    ++g_live;
  }
  ~CountingCache() override { --g_live; }
  CountingCache(const CountingCache&) = delete;
  CountingCache& operator=(const CountingCache&) = delete;
  CountingCache(CountingCache&&) = delete;
  CountingCache& operator=(CountingCache&&) = delete;
  plugin::Health health() override { return {plugin::HealthStatus::degraded, "fake"}; }
  std::optional<std::string> get(std::string_view key) override {
    return prefix_ + std::string(key);
  }
  void set(std::string_view, std::string_view, std::chrono::seconds) override {}
  bool erase(std::string_view) override { return false; }
  std::int64_t increment(std::string_view, std::int64_t d, std::chrono::seconds) override {
    return d;
  }

 private:
  std::string prefix_;
};

constexpr plugin::ConfigKeySpec kKeys[] = {
    {.name = "cache.counting.prefix", .default_value = "p:", .help = "Prefix."}};
constexpr plugin::Descriptor kCounting =
    plugin::detail::make_descriptor<plugin::Kind::cache, CountingCache>("counting", "2.1", kKeys);

plugin::Descriptor spoiled(void (*spoil)(plugin::Descriptor&)) {
  plugin::Descriptor d = kCounting;
  spoil(d);
  return d;
}

std::string problem_of(const plugin::Descriptor& d) {
  plugins::PluginInfo info;
  auto problem = plugins::check_descriptor(d, info);
  REQUIRE(problem.has_value());
  return *problem;
}

}  // namespace

TEST_CASE("the macro's descriptor passes every check", "[plugins]") {
  plugins::PluginInfo info;
  REQUIRE_FALSE(plugins::check_descriptor(kCounting, info));
  CHECK(info.kind == plugin::Kind::cache);
  CHECK(info.name == "counting");
  CHECK(info.version == "2.1");
  CHECK(info.description == "counts its instances");
  CHECK(info.thread_safe());
  REQUIRE(info.config_keys.size() == 1);
  CHECK(std::string(info.config_keys[0].name) == "cache.counting.prefix");
  CHECK(info.full_name() == "cache-counting");
}

TEST_CASE("the macro wires an optional static validate function", "[plugins]") {
  CHECK(kCounting.validate == nullptr);  // CountingCache declares none

  struct Validating : CountingCache {
    using CountingCache::CountingCache;
    static void validate(const plugin::Config& config, std::vector<plugin::ConfigProblem>& out) {
      if (config.get_string("cache.counting.prefix").empty()) {
        out.push_back({"cache.counting.prefix", "expected a non-empty prefix"});
      }
    }
  };
  constexpr auto descriptor =
      plugin::detail::make_descriptor<plugin::Kind::cache, Validating>("validating", "1", kKeys);
  REQUIRE(descriptor.validate != nullptr);
  std::vector<plugin::ConfigProblem> problems;
  descriptor.validate(config::StaticConfig{{"cache.counting.prefix", ""}}, problems);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].key == "cache.counting.prefix");
  problems.clear();
  descriptor.validate(config::StaticConfig{{"cache.counting.prefix", "x"}}, problems);
  CHECK(problems.empty());
}

TEST_CASE("each ABI rule has its own message", "[plugins]") {
  CHECK_THAT(problem_of(spoiled([](auto& d) { d.prefix.magic = 1; })),
             Contains("bad descriptor magic"));
  CHECK_THAT(problem_of(spoiled([](auto& d) {
               d.prefix.abi_major = 0;
               d.prefix.abi_minor = 0;
             })),
             Contains("built for plugin ABI 0.0, but this Eltrix supports ABI 1.1"));
  CHECK_THAT(problem_of(spoiled([](auto& d) { d.prefix.abi_minor = 9; })),
             Contains("ABI 1.9, newer than"));
  CHECK_THAT(problem_of(spoiled([](auto& d) { d.prefix.size = 40; })),
             Contains("descriptor of 40 bytes, expected at least 96"));
  CHECK_THAT(problem_of(spoiled([](auto& d) { d.prefix.kind = 9; })), Contains("unknown kind 9"));
  CHECK_THAT(problem_of(spoiled([](auto& d) { d.prefix.name = "Bad Name"; })),
             Contains("plugin name 'Bad Name' is invalid"));
  CHECK_THAT(problem_of(spoiled([](auto& d) { d.create = nullptr; })), Contains("no create"));
  CHECK_THAT(problem_of(spoiled([](auto& d) { d.config_keys = nullptr; })),
             Contains("config_keys is null"));
}

TEST_CASE("the prefix of a future ABI is still readable", "[plugins]") {
  auto d = spoiled([](auto& x) { x.prefix.abi_major = 7; });
  auto prefix = plugins::read_prefix(d);
  CHECK(prefix.abi_major == 7);
  CHECK(prefix.name == "counting");
  CHECK(prefix.version == "2.1");
}

TEST_CASE("plugin file names parse into kind and name", "[plugins]") {
  auto parsed = plugins::parse_file_stem("media-store-fs");
  REQUIRE(parsed);
  CHECK(parsed->first == plugin::Kind::media_store);
  CHECK(parsed->second == "fs");
  CHECK(plugins::parse_file_stem("cluster-strategy-dns")->first == plugin::Kind::cluster_strategy);
  CHECK_FALSE(plugins::parse_file_stem("libfoo"));
  CHECK_FALSE(plugins::parse_file_stem("cache-"));
}

TEST_CASE("in-process plugins go through the registry's checks and lifetime", "[plugins]") {
  metrics::Registry metrics;
  plugins::Registry registry(metrics);
  registry.add_descriptor(kCounting, "test");
  CHECK_THROWS_WITH(registry.add_descriptor(kCounting, "again"),
                    Contains("duplicate plugin cache-counting"));
  CHECK_THROWS_AS(registry.add_descriptor(spoiled([](auto& d) { d.prefix.abi_major = 2; }), "x"),
                  plugins::LoadError);
  CHECK_THROWS_WITH(registry.create<plugin::Cache>("missing", config::StaticConfig()),
                    Contains("no cache plugin named 'missing'"));

  config::StaticConfig config({{"cache.counting.prefix", "q:"}});
  {
    auto cache = registry.create<plugin::Cache>("counting", config);
    CHECK(g_live == 1);
    CHECK(cache->get("k") == "q:k");
    CHECK(cache->health().status == plugin::HealthStatus::degraded);
    CHECK(metrics.counter("eltrix_test_counting_created_total", "Instances created.").value() == 1);
    auto moved = std::move(cache);
    CHECK(g_live == 1);
    CHECK_FALSE(cache);
  }
  CHECK(g_live == 0);  // destroyed through the plugin's destroy function
}
