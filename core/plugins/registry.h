// The plugin registry: loads checked plugins and creates their instances.
//
// This directory is the only code that includes Boost.DLL. Every call into a
// plugin made here is wrapped so that no exception escapes unannounced.
#pragma once

#include "plugins/plugin_host.h"
#include "plugins/plugin_info.h"

#include <eltrix/plugin/plugin.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace eltrix::metrics {
class Registry;
}

namespace eltrix::plugins {

/// A plugin could not be loaded or created. The message names the file, what
/// was found and what was expected.
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A loaded plugin: its checked descriptor and, for .so plugins, the library
/// that must stay mapped while any of its objects exist.
struct LoadedPlugin {
  PluginInfo info;
  std::shared_ptr<void> library;  ///< the boost::dll::shared_library, type-erased
};

namespace detail {
template <typename Interface>
constexpr plugin::Kind kind_of();
template <>
constexpr plugin::Kind kind_of<plugin::Cache>() {
  return plugin::Kind::cache;
}
template <>
constexpr plugin::Kind kind_of<plugin::MediaStore>() {
  return plugin::Kind::media_store;
}
template <>
constexpr plugin::Kind kind_of<plugin::ClusterStrategy>() {
  return plugin::Kind::cluster_strategy;
}
template <>
constexpr plugin::Kind kind_of<plugin::DbRouting>() {
  return plugin::Kind::db_routing;
}
}  // namespace detail

/// Owns one plugin object. Destroys it through the plugin's own destroy
/// function, then releases its Host, then (last) its hold on the library.
template <typename Interface>
class Instance {
 public:
  Instance() = default;
  Instance(std::shared_ptr<const LoadedPlugin> plugin, std::unique_ptr<PluginHost> host,
           void* object)
      : plugin_(std::move(plugin)),
        host_(std::move(host)),
        object_(static_cast<Interface*>(object)),
        serial_(plugin_->info.thread_safe() ? nullptr : std::make_unique<std::mutex>()) {}
  Instance(Instance&& other) noexcept
      : plugin_(std::move(other.plugin_)),
        host_(std::move(other.host_)),
        object_(std::exchange(other.object_, nullptr)),
        serial_(std::move(other.serial_)) {}
  Instance& operator=(Instance&& other) noexcept {
    if (this != &other) {
      reset();
      plugin_ = std::move(other.plugin_);
      host_ = std::move(other.host_);
      object_ = std::exchange(other.object_, nullptr);
      serial_ = std::move(other.serial_);
    }
    return *this;
  }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance() { reset(); }

  Interface* get() const { return object_; }
  Interface* operator->() const { return object_; }
  Interface& operator*() const { return *object_; }
  explicit operator bool() const { return object_ != nullptr; }
  const PluginInfo& info() const { return plugin_->info; }

  /// Held around every call when the plugin is not thread-safe; an empty lock
  /// otherwise.
  [[nodiscard]] std::unique_lock<std::mutex> serialize() const {
    return serial_ ? std::unique_lock<std::mutex>(*serial_) : std::unique_lock<std::mutex>();
  }

  void reset() {
    if (object_ != nullptr) {
      plugin_->info.descriptor->destroy(object_);  // noexcept by the ABI
      object_ = nullptr;
    }
    host_.reset();
    plugin_.reset();
  }

 private:
  std::shared_ptr<const LoadedPlugin> plugin_;
  std::unique_ptr<PluginHost> host_;
  Interface* object_ = nullptr;
  std::unique_ptr<std::mutex> serial_;
};

class Registry {
 public:
  explicit Registry(metrics::Registry& metrics);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  Registry(Registry&&) = delete;
  Registry& operator=(Registry&&) = delete;

  /// Checks and loads a plugin file. Before the library is mapped, its ELF
  /// symbol table must show the descriptor symbol in the descriptor section,
  /// so a file that is not a plugin never runs. Throws LoadError.
  const PluginInfo& load_file(const std::filesystem::path& so_path);

  /// Registers an in-process plugin (test fakes) through the same checks.
  const PluginInfo& add_descriptor(const plugin::Descriptor& descriptor, std::string origin);

  [[nodiscard]] const PluginInfo* find(plugin::Kind kind, std::string_view name) const;
  [[nodiscard]] std::vector<const PluginInfo*> plugins() const;

  /// Creates an instance of the named plugin of Interface's kind. Throws
  /// LoadError if there is no such plugin, or if its create fails or throws.
  template <typename Interface>
  Instance<Interface> create(std::string_view name, const plugin::Config& config) {
    auto plugin = lookup(detail::kind_of<Interface>(), name);
    auto host = make_host(plugin->info);
    void* object = call_create(*plugin, *host, config);
    return Instance<Interface>(std::move(plugin), std::move(host), object);
  }

 private:
  std::shared_ptr<const LoadedPlugin> lookup(plugin::Kind kind, std::string_view name) const;
  std::unique_ptr<PluginHost> make_host(const PluginInfo& info) const;
  static void* call_create(const LoadedPlugin& plugin, plugin::Host& host,
                           const plugin::Config& config);
  const PluginInfo& insert(std::shared_ptr<LoadedPlugin> plugin);

  metrics::Registry& metrics_;
  mutable std::mutex mutex_;
  std::map<std::pair<plugin::Kind, std::string>, std::shared_ptr<const LoadedPlugin>> plugins_;
};

}  // namespace eltrix::plugins
