#include "plugins/descriptor_check.h"

#include <fmt/format.h>

namespace eltrix::plugins {

using plugin::ConfigType;
using plugin::Kind;

std::string full_name(Kind kind, std::string_view name) {
  return fmt::format("{}-{}", plugin::kind_name(kind), name);
}

std::string PluginInfo::full_name() const {
  return plugins::full_name(kind, name);
}

PrefixView read_prefix(const plugin::Descriptor& descriptor) {
  const auto& p = descriptor.prefix;
  PrefixView view{p.magic, p.abi_major, p.abi_minor, p.size, p.kind, {}, {}};
  if (p.magic == plugin::kMagic) {
    if (p.name != nullptr) view.name = std::string(p.name).substr(0, 64);
    if (p.version != nullptr) view.version = std::string(p.version).substr(0, 64);
  }
  return view;
}

std::string abi_string(std::uint16_t major, std::uint16_t minor) {
  return fmt::format("ABI {}.{}", major, minor);
}

bool valid_plugin_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

namespace {

bool known_kind(std::uint32_t kind) {
  for (Kind k : plugin::kAllKinds) {
    if (static_cast<std::uint32_t>(k) == kind) return true;
  }
  return false;
}

std::optional<std::string> check_keys(const plugin::Descriptor& d) {
  if (d.config_key_count > 0 && d.config_keys == nullptr) {
    return fmt::format("config_key_count is {} but config_keys is null", d.config_key_count);
  }
  if (d.config_key_count > 256) {
    return fmt::format("config_key_count is {}, expected at most 256", d.config_key_count);
  }
  for (std::size_t i = 0; i < d.config_key_count; ++i) {
    const auto& key = d.config_keys[i];
    if (key.name == nullptr || *key.name == '\0') {
      return fmt::format("config key #{} has no name", i);
    }
    auto type = static_cast<std::uint32_t>(key.type);
    if (type < static_cast<std::uint32_t>(ConfigType::string) ||
        type > static_cast<std::uint32_t>(ConfigType::choice)) {
      return fmt::format("config key '{}' has unknown type {}, expected 1..5", key.name, type);
    }
    if (key.type == ConfigType::choice && (key.choices == nullptr || *key.choices == '\0')) {
      return fmt::format("config key '{}' is a choice but lists no choices", key.name);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_descriptor(const plugin::Descriptor& descriptor,
                                            PluginInfo& info) {
  const PrefixView prefix = read_prefix(descriptor);
  if (prefix.magic != plugin::kMagic) {
    return fmt::format("bad descriptor magic 0x{:08x}, expected 0x{:08x}", prefix.magic,
                       plugin::kMagic);
  }
  const std::string who = fmt::format("plugin '{}' version '{}'",
                                      prefix.name.empty() ? "?" : prefix.name, prefix.version);
  if (prefix.abi_major != plugin::kAbiMajor) {
    return fmt::format(
        "{} was built for plugin {}, but this Eltrix supports {} (major versions must match); "
        "rebuild the plugin against eltrix-plugin {}.x",
        who, abi_string(prefix.abi_major, prefix.abi_minor),
        abi_string(plugin::kAbiMajor, plugin::kAbiMinor), plugin::kAbiMajor);
  }
  if (prefix.abi_minor > plugin::kAbiMinor) {
    return fmt::format(
        "{} was built for plugin {}, newer than this Eltrix's {}; upgrade Eltrix or use a "
        "plugin built for {} or older",
        who, abi_string(prefix.abi_major, prefix.abi_minor),
        abi_string(plugin::kAbiMajor, plugin::kAbiMinor),
        abi_string(plugin::kAbiMajor, plugin::kAbiMinor));
  }
  if (prefix.size < plugin::kDescriptorSizeV1_0) {
    return fmt::format("{} has a descriptor of {} bytes, expected at least {} for {}", who,
                       prefix.size, plugin::kDescriptorSizeV1_0,
                       abi_string(prefix.abi_major, prefix.abi_minor));
  }
  if (!known_kind(prefix.kind)) {
    return fmt::format(
        "{} has unknown kind {}, expected 1 (cache), 2 (media-store), 3 (cluster-strategy) or "
        "4 (db-routing)",
        who, prefix.kind);
  }
  if (!valid_plugin_name(prefix.name)) {
    return fmt::format("plugin name '{}' is invalid, expected 1-32 characters of [a-z0-9_]",
                       prefix.name);
  }
  if (descriptor.create == nullptr || descriptor.destroy == nullptr) {
    return fmt::format("{} has no create or destroy function", who);
  }
  if (auto problem = check_keys(descriptor)) return who + ": " + *problem;

  info.kind = static_cast<Kind>(prefix.kind);
  info.name = prefix.name;
  info.version = prefix.version;
  info.description = descriptor.description != nullptr ? descriptor.description : "";
  info.abi_major = prefix.abi_major;
  info.abi_minor = prefix.abi_minor;
  info.flags = descriptor.flags;
  info.capabilities = descriptor.capabilities;
  info.config_keys.assign(descriptor.config_keys,
                          descriptor.config_keys + descriptor.config_key_count);
  info.descriptor = &descriptor;
  return std::nullopt;
}

std::optional<std::pair<Kind, std::string>> parse_file_stem(std::string_view stem) {
  for (Kind kind : plugin::kAllKinds) {
    auto prefix = plugin::kind_name(kind);
    if (stem.size() > prefix.size() + 1 && stem.substr(0, prefix.size()) == prefix &&
        stem[prefix.size()] == '-') {
      auto name = stem.substr(prefix.size() + 1);
      // "media-store-fs" must not parse as kind "media"... kinds are checked
      // in full, and no kind name is a prefix of another plus '-'.
      return std::make_pair(kind, std::string(name));
    }
  }
  return std::nullopt;
}

}  // namespace eltrix::plugins
