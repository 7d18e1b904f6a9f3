#include "plugins/registry.h"

#include "plugins/descriptor_check.h"
#include "plugins/library.h"

#include <fmt/format.h>

namespace eltrix::plugins {

Registry::Registry(metrics::Registry& metrics) : metrics_(metrics) {}

Registry::~Registry() = default;

const PluginInfo& Registry::load_file(const std::filesystem::path& so_path) {
  OpenedLibrary opened = open_library(so_path);
  auto plugin = std::make_shared<LoadedPlugin>();
  if (auto problem = check_descriptor(*opened.descriptor, plugin->info)) {
    throw LoadError(fmt::format("{}: {}", so_path.string(), *problem));
  }
  // The file name is how operators and `launch`-style config refer to a
  // plugin; a mismatch would load something other than what was asked for.
  const std::string expected = plugin->info.full_name() + ".so";
  if (so_path.filename().string() != expected) {
    throw LoadError(fmt::format(
        "{}: the file name does not match its descriptor ({} {}), "
        "expected the file to be named {}",
        so_path.string(), plugin::kind_name(plugin->info.kind), plugin->info.name, expected));
  }
  plugin->info.path = so_path;
  plugin->info.origin = so_path.string();
  plugin->library = std::move(opened.library);
  return insert(std::move(plugin));
}

const PluginInfo& Registry::add_descriptor(const plugin::Descriptor& descriptor,
                                           std::string origin) {
  auto plugin = std::make_shared<LoadedPlugin>();
  if (auto problem = check_descriptor(descriptor, plugin->info)) {
    throw LoadError(fmt::format("{}: {}", origin, *problem));
  }
  plugin->info.origin = std::move(origin);
  return insert(std::move(plugin));
}

const PluginInfo& Registry::insert(std::shared_ptr<LoadedPlugin> plugin) {
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(plugin->info.kind, plugin->info.name);
  if (auto it = plugins_.find(key); it != plugins_.end()) {
    throw LoadError(
        fmt::format("{}: duplicate plugin {}: already loaded from {}, expected each "
                    "kind and name to be provided once",
                    plugin->info.origin, plugin->info.full_name(), it->second->info.origin));
  }
  const PluginInfo& info = plugin->info;
  plugins_.emplace(std::move(key), std::move(plugin));
  return info;
}

const PluginInfo* Registry::find(plugin::Kind kind, std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = plugins_.find(std::make_pair(kind, std::string(name)));
  return it == plugins_.end() ? nullptr : &it->second->info;
}

std::vector<const PluginInfo*> Registry::plugins() const {
  std::lock_guard lock(mutex_);
  std::vector<const PluginInfo*> out;
  out.reserve(plugins_.size());
  for (const auto& [key, plugin] : plugins_) out.push_back(&plugin->info);
  return out;
}

std::shared_ptr<const LoadedPlugin> Registry::lookup(plugin::Kind kind,
                                                     std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = plugins_.find(std::make_pair(kind, std::string(name)));
  if (it != plugins_.end()) return it->second;
  std::string loaded;
  for (const auto& [key, plugin] : plugins_) {
    if (key.first != kind) continue;
    if (!loaded.empty()) loaded += ", ";
    loaded += key.second;
  }
  throw LoadError(fmt::format("no {} plugin named '{}' is loaded; loaded {} plugins: {}",
                              plugin::kind_name(kind), name, plugin::kind_name(kind),
                              loaded.empty() ? "none" : loaded));
}

std::unique_ptr<PluginHost> Registry::make_host(const PluginInfo& info) const {
  return std::make_unique<PluginHost>(
      fmt::format("plugin.{}.{}", plugin::kind_name(info.kind), info.name), metrics_);
}

void* Registry::call_create(const LoadedPlugin& plugin, plugin::Host& host,
                            const plugin::Config& config) {
  const auto& info = plugin.info;
  void* object = nullptr;
  try {
    object = info.descriptor->create(host, config);
  } catch (const std::exception& e) {
    throw LoadError(
        fmt::format("{}: plugin {} failed to start: {}", info.origin, info.full_name(), e.what()));
  } catch (...) {
    throw LoadError(
        fmt::format("{}: plugin {} failed to start: it threw a non-standard "
                    "exception, expected an eltrix::plugin::Error",
                    info.origin, info.full_name()));
  }
  if (object == nullptr) {
    throw LoadError(
        fmt::format("{}: plugin {} returned no object from create", info.origin, info.full_name()));
  }
  return object;
}

}  // namespace eltrix::plugins
