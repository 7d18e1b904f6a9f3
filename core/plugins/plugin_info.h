// What the core knows about a plugin once its descriptor has been checked.
#pragma once

#include <eltrix/plugin/descriptor.h>

#include <filesystem>
#include <string>
#include <vector>

namespace eltrix::plugins {

struct PluginInfo {
  plugin::Kind kind{};
  std::string name;
  std::string version;
  std::string description;
  std::uint16_t abi_major = 0;
  std::uint16_t abi_minor = 0;
  std::uint32_t flags = 0;
  std::uint64_t capabilities = 0;
  std::filesystem::path path;  ///< empty for in-process plugins (test fakes)
  std::string origin;          ///< the path, or who registered an in-process plugin
  std::vector<plugin::ConfigKeySpec> config_keys;
  const plugin::Descriptor* descriptor = nullptr;

  /// "cache-local": the file stem and the name used in messages.
  [[nodiscard]] std::string full_name() const;
  [[nodiscard]] bool thread_safe() const { return (flags & plugin::kThreadSafe) != 0; }
};

/// "cache-local" for (cache, "local").
std::string full_name(plugin::Kind kind, std::string_view name);

}  // namespace eltrix::plugins
