// Loads real shared objects through the real registry: one fixture per way a
// plugin can be wrong, and the first-party plugins as built.
#include "app/configuration.h"
#include "app/list_plugins.h"
#include "config/core_keys.h"
#include "config/static_config.h"
#include "metrics/registry.h"
#include "plugins/registry.h"
#include "plugins/selection.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using eltrix::plugins::LoadError;

namespace {

fs::path env_dir(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  REQUIRE(value != nullptr);
  return fs::path(value);
}

fs::path fixture(const std::string& stem) {
  return env_dir("ELTRIX_FIXTURE_DIR") / (stem + ".so");
}

using Files = std::vector<std::pair<std::string, std::string>>;

/// A fresh directory holding copies of the named fixtures.
struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const Files& files = {}) {
    std::string templ = (fs::temp_directory_path() / "eltrix-plugin-load-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
    for (const auto& [stem, as] : files) fs::copy_file(fixture(stem), path / as);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir(ScratchDir&&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;
};

std::string load_error(eltrix::plugins::Registry& registry, const fs::path& path) {
  try {
    registry.load_file(path);
  } catch (const LoadError& e) {
    return e.what();
  }
  FAIL("expected a LoadError for " << path);
  return {};
}

/// Runs the real start-up configuration with `conf_text` as the config file
/// and `plugin_dir` as the only plugin directory; returns every problem.
std::string configuration_problems(const fs::path& plugin_dir, const std::string& conf_text) {
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  eltrix::app::CliOptions options;
  options.config_file = (plugin_dir / "eltrix.conf").string();
  std::ofstream(*options.config_file) << conf_text;
  auto loaded = eltrix::app::load_configuration(
      options, registry, [&](const std::string& name) -> std::optional<std::string> {
        if (name == "ELTRIX_PLUGIN_DIR") return plugin_dir.string();
        return std::nullopt;
      });
  std::string all;
  for (const auto& p : loaded->problems) all += p.message + "\n";
  return all;
}

}  // namespace

TEST_CASE("a well-formed plugin loads and creates", "[plugin-load]") {
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  const auto& info = registry.load_file(fixture("cache-good"));
  CHECK(info.kind == eltrix::plugin::Kind::cache);
  CHECK(info.name == "good");
  CHECK(info.version == "1.2.3");
  CHECK(info.abi_major == eltrix::plugin::kAbiMajor);
  CHECK(info.path == fixture("cache-good"));

  eltrix::config::StaticConfig config;
  auto cache = registry.create<eltrix::plugin::Cache>("good", config);
  REQUIRE(cache);
  CHECK(cache->increment("k", 5, std::chrono::seconds(1)) == 5);
  CHECK(cache.info().name == "good");
}

TEST_CASE("a stripped plugin (no .symtab) still loads", "[plugin-load]") {
  ScratchDir dir(Files{{"cache-good", "cache-good.so"}});
  const auto file = dir.path / "cache-good.so";
  REQUIRE(std::system(("strip --strip-all " + file.string()).c_str()) == 0);  // NOLINT
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  CHECK(registry.load_file(file).name == "good");
}

TEST_CASE("a bad magic is refused before anything else is read", "[plugin-load]") {
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  auto message = load_error(registry, fixture("cache-badmagic"));
  CHECK_THAT(message, Contains(fixture("cache-badmagic").string()));
  CHECK_THAT(message, Contains("bad descriptor magic 0xdeadbeef"));
  CHECK_THAT(message, Contains("expected 0x58544c45"));
  CHECK(registry.find(eltrix::plugin::Kind::cache, "badmagic") == nullptr);
}

TEST_CASE("another ABI major is refused showing both versions", "[plugin-load]") {
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  auto message = load_error(registry, fixture("cache-nextmajor"));
  CHECK_THAT(message, Contains(fixture("cache-nextmajor").string()));
  CHECK_THAT(message, Contains("ABI 2.0"));
  CHECK_THAT(message, Contains("ABI 1.1"));
  CHECK_THAT(message, Contains("nextmajor"));
}

TEST_CASE("an ABI minor newer than the core is refused", "[plugin-load]") {
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  auto message = load_error(registry, fixture("cache-newminor"));
  CHECK_THAT(message, Contains("ABI 1.2"));
  CHECK_THAT(message, Contains("newer than this Eltrix's ABI 1.1"));
}

TEST_CASE("a library without the descriptor symbol is refused and never runs", "[plugin-load]") {
  ScratchDir marker_dir;
  const auto marker = marker_dir.path / "constructor-ran";
  setenv("ELTRIX_FIXTURE_MARKER", marker.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  auto message = load_error(registry, fixture("cache-nosymbol"));
  unsetenv("ELTRIX_FIXTURE_MARKER");  // NOLINT(concurrency-mt-unsafe)
  CHECK_THAT(message, Contains("is not an Eltrix plugin"));
  CHECK_THAT(message, Contains("eltrix_plugin_descriptor"));
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("a file that is not ELF is refused", "[plugin-load]") {
  ScratchDir dir;
  std::ofstream(dir.path / "cache-text.so") << "#!/bin/sh\necho not a plugin\n";
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  auto message = load_error(registry, dir.path / "cache-text.so");
  CHECK_THAT(message, Contains("cache-text.so is not an Eltrix plugin"));
  CHECK_THAT(message, Contains("ELF"));
}

TEST_CASE("a duplicate kind and name is refused naming both files", "[plugin-load]") {
  ScratchDir first(Files{{"cache-good", "cache-good.so"}});
  ScratchDir second(Files{{"cache-good", "cache-good.so"}});
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  registry.load_file(first.path / "cache-good.so");
  auto message = load_error(registry, second.path / "cache-good.so");
  CHECK_THAT(message, Contains("duplicate plugin cache-good"));
  CHECK_THAT(message, Contains((first.path / "cache-good.so").string()));
  CHECK_THAT(message, Contains((second.path / "cache-good.so").string()));
}

TEST_CASE("duplicates across plugin directories are reported as a config problem",
          "[plugin-load]") {
  ScratchDir first(Files{{"cache-good", "cache-good.so"}});
  ScratchDir second(Files{{"cache-good", "cache-good.so"}});
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  eltrix::config::Schema schema;
  eltrix::config::add_core_keys(schema);
  auto config = eltrix::config::Config::resolve(schema, {{"cache.backend", "good", "test:1"}},
                                                [](const std::string&) { return std::nullopt; });
  auto problems = eltrix::plugins::load_selected(
      registry, schema, config, {{"cache.backend", eltrix::plugin::Kind::cache, "good"}},
      {first.path, second.path});
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0].message, Contains("duplicate plugin cache-good"));
}

TEST_CASE("a file name that does not match the descriptor is refused", "[plugin-load]") {
  ScratchDir dir(Files{{"cache-good", "cache-other.so"}});
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  auto message = load_error(registry, dir.path / "cache-other.so");
  CHECK_THAT(message, Contains("expected the file to be named cache-good.so"));
}

TEST_CASE("a plugin that throws in create is reported, not propagated", "[plugin-load]") {
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  registry.load_file(fixture("cache-throws"));
  registry.load_file(fixture("cache-throwsint"));
  eltrix::config::StaticConfig config;
  try {
    (void)registry.create<eltrix::plugin::Cache>("throws", config);
    FAIL("create should have failed");
  } catch (const LoadError& e) {
    CHECK_THAT(std::string(e.what()), Contains(fixture("cache-throws").string()));
    CHECK_THAT(std::string(e.what()), Contains("failed to start: cannot reach the backend"));
  }
  try {
    (void)registry.create<eltrix::plugin::Cache>("throwsint", config);
    FAIL("create should have failed");
  } catch (const LoadError& e) {
    CHECK_THAT(std::string(e.what()), Contains("non-standard exception"));
  }
}

TEST_CASE("an unknown configured plugin names the key, the value and what is installed",
          "[plugin-load]") {
  ScratchDir dir(Files{{"cache-good", "cache-good.so"}, {"cache-keyed", "cache-keyed.so"}});
  const std::string all = configuration_problems(dir.path, "cache.backend = nosuch\n");
  CHECK_THAT(all, Contains("cache.backend = 'nosuch'"));
  CHECK_THAT(all, Contains("eltrix.conf:1"));
  CHECK_THAT(all, Contains("installed cache plugins: good ("));
  CHECK_THAT(all, Contains("keyed ("));
  // Reported together with the other problems, not instead of them.
  CHECK_THAT(all, Contains("server.name is required"));
}

TEST_CASE("a configured plugin's own keys are declared and validated", "[plugin-load]") {
  ScratchDir dir(Files{{"cache-keyed", "cache-keyed.so"}});
  const std::string all =
      configuration_problems(dir.path, "cache.backend = keyed\ncache.keyed.size = 500\n");
  CHECK_THAT(all, Contains("cache.keyed.endpoint is required"));
  CHECK_THAT(all, Contains("ELTRIX_CACHE_KEYED_ENDPOINT"));
  CHECK_THAT(all, Contains("cache.keyed.size = '500'"));
  CHECK_THAT(all, Contains("expected an integer from 1 to 100"));
}

TEST_CASE("--list-plugins shows every file, including refused ones", "[plugin-load]") {
  ScratchDir dir(Files{{"cache-good", "cache-good.so"},
                       {"cache-nextmajor", "cache-nextmajor.so"},
                       {"cache-nosymbol", "cache-nosymbol.so"}});
  auto listing = eltrix::app::list_plugins({dir.path});
  CHECK_THAT(listing, Contains("good"));
  CHECK_THAT(listing, Contains("1.2.3"));
  CHECK_THAT(listing, Contains("nextmajor"));
  CHECK_THAT(listing, Contains("2.0"));
  CHECK_THAT(listing, Contains("refused"));
  CHECK_THAT(listing, Contains("is not an Eltrix plugin"));
}

TEST_CASE("the first-party plugins load from the build tree", "[plugin-load]") {
  const auto dir = env_dir("ELTRIX_PLUGIN_BUILD_DIR");
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  const std::vector<std::pair<eltrix::plugin::Kind, std::string>> expected = {
      {eltrix::plugin::Kind::cache, "local"},
      {eltrix::plugin::Kind::media_store, "fs"},
      {eltrix::plugin::Kind::cluster_strategy, "static"},
      {eltrix::plugin::Kind::db_routing, "primary"},
  };
  for (const auto& [kind, name] : expected) {
    auto file = dir / (eltrix::plugins::full_name(kind, name) + ".so");
    INFO(file);
    const auto& info = registry.load_file(file);
    CHECK(info.kind == kind);
    CHECK(info.name == name);
    CHECK(info.thread_safe());
  }
}
