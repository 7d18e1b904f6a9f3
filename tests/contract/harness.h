// Shared machinery for the contract suites: a plugin instance created through
// the core's plugins::Registry together with everything it needs to outlive
// it, plus byte sources and small assertion helpers.
#pragma once

#include "config/static_config.h"
#include "metrics/registry.h"
#include "plugins/registry.h"

#include <eltrix/plugin/plugin.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace eltrix::contract {

using ConfigValues = std::map<std::string, std::string, std::less<>>;

/// One plugin object under test. Members are destroyed in reverse order: the
/// instance first, then its config, the registries, and last any resources
/// (such as a temporary directory) it used.
template <typename Interface>
class Subject {
 public:
  using Loader = std::function<const plugins::PluginInfo&(plugins::Registry&)>;

  Subject(const Loader& load, ConfigValues values, std::shared_ptr<void> resources = {})
      : resources_(std::move(resources)),
        metrics_(std::make_unique<metrics::Registry>()),
        registry_(std::make_unique<plugins::Registry>(*metrics_)),
        config_(std::make_unique<config::StaticConfig>(std::move(values))) {
    const plugins::PluginInfo& info = load(*registry_);
    instance_ = registry_->create<Interface>(info.name, *config_);
  }

  Interface* operator->() const { return instance_.get(); }
  Interface& operator*() const { return *instance_; }
  [[nodiscard]] const plugins::PluginInfo& info() const { return instance_.info(); }
  [[nodiscard]] metrics::Registry& metrics() const { return *metrics_; }
  [[nodiscard]] const std::shared_ptr<void>& resources() const { return resources_; }
  /// Keeps `resources` until after the instance is destroyed.
  void keep_alive(std::shared_ptr<void> resources) { resources_ = std::move(resources); }

 private:
  std::shared_ptr<void> resources_;
  std::unique_ptr<metrics::Registry> metrics_;
  std::unique_ptr<plugins::Registry> registry_;
  std::unique_ptr<config::StaticConfig> config_;
  plugins::Instance<Interface> instance_;
};

/// Makes a fresh subject from a configuration. Suites call it once per
/// section, so every section starts from an empty backend.
template <typename Interface>
using Factory = std::function<Subject<Interface>(ConfigValues)>;

/// The plugin file `<stem>.so`: from $ELTRIX_TEST_PLUGIN_DIR when set, else
/// the one this build produced.
std::filesystem::path plugin_file(std::string_view stem);

/// A factory for a real plugin file, loaded with Registry::load_file.
template <typename Interface>
Factory<Interface> file_factory(std::string stem) {
  return [stem](ConfigValues values) {
    auto path = plugin_file(stem);
    return Subject<Interface>(
        [path](plugins::Registry& registry) -> const plugins::PluginInfo& {
          return registry.load_file(path);
        },
        std::move(values));
  };
}

/// A factory for an in-process plugin (a fake), via Registry::add_descriptor.
template <typename Interface>
Factory<Interface> descriptor_factory(const plugin::Descriptor& descriptor) {
  return [&descriptor](ConfigValues values) {
    return Subject<Interface>(
        [&descriptor](plugins::Registry& registry) -> const plugins::PluginInfo& {
          return registry.add_descriptor(descriptor, "contract test fake");
        },
        std::move(values));
  };
}

/// A temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Every regular file under `root`, as paths relative to it.
std::vector<std::string> files_under(const std::filesystem::path& root);

/// Deterministic pseudo-random bytes (xorshift64*), the same for the same seed.
std::string pseudo_random_bytes(std::uint64_t seed, std::size_t size);

/// Streams `size` pseudo-random bytes for `seed` in chunks of at most
/// `chunk` bytes (so a consumer sees short reads), never holding them all.
class PseudoRandomSource final : public plugin::ByteSource {
 public:
  PseudoRandomSource(std::uint64_t seed, std::uint64_t size, std::size_t chunk = 7919);
  std::size_t read(char* buffer, std::size_t capacity) override;

 private:
  std::uint64_t state_;
  std::uint64_t remaining_;
  std::size_t chunk_;
  std::uint64_t word_ = 0;
  unsigned word_bytes_ = 0;
};

/// Serves a string.
class StringSource final : public plugin::ByteSource {
 public:
  explicit StringSource(std::string data, std::size_t chunk = 65536)
      : data_(std::move(data)), chunk_(chunk) {}
  std::size_t read(char* buffer, std::size_t capacity) override;

 private:
  std::string data_;
  std::size_t position_ = 0;
  std::size_t chunk_;
};

/// Serves `good_bytes` bytes, then throws std::runtime_error("source failed").
class ThrowingSource final : public plugin::ByteSource {
 public:
  explicit ThrowingSource(std::uint64_t good_bytes) : remaining_(good_bytes) {}
  std::size_t read(char* buffer, std::size_t capacity) override;

 private:
  std::uint64_t remaining_;
};

/// Reads a source to its end through a buffer of `buffer_size` bytes.
std::string drain(plugin::ByteSource& source, std::size_t buffer_size = 10007);

/// Runs `call` and requires it to throw plugin::Error of `kind`.
template <typename Call>
void require_error(plugin::ErrorKind kind, Call&& call) {
  bool threw = false;
  try {
    call();
  } catch (const plugin::Error& error) {
    threw = true;
    INFO("message: " << error.what());
    CHECK(static_cast<int>(error.kind()) == static_cast<int>(kind));
  }
  CHECK(threw);
}

}  // namespace eltrix::contract
