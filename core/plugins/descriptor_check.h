// Checks a descriptor against the ABI rules before any plugin code runs.
//
// Pure functions over memory, so the rules are unit-tested without building
// shared objects; the loader applies them to the symbol it found.
#pragma once

#include "plugins/plugin_info.h"

#include <optional>
#include <string>

namespace eltrix::plugins {

/// The frozen prefix as read from memory, with the strings copied out.
struct PrefixView {
  std::uint32_t magic = 0;
  std::uint16_t abi_major = 0;
  std::uint16_t abi_minor = 0;
  std::uint32_t size = 0;
  std::uint32_t kind = 0;
  std::string name;
  std::string version;
};

/// Reads the prefix. Name and version are read only if the magic matches,
/// since only then are those fields known to be pointers.
PrefixView read_prefix(const plugin::Descriptor& descriptor);

/// "ABI 1.0".
std::string abi_string(std::uint16_t major, std::uint16_t minor);

/// Checks the whole descriptor. On success fills `info` (path left to the
/// caller) and returns nullopt; otherwise returns what was found and what was
/// expected, without naming the file (the caller prefixes it).
std::optional<std::string> check_descriptor(const plugin::Descriptor& descriptor, PluginInfo& info);

/// Plugin names: 1-32 characters of [a-z0-9_].
bool valid_plugin_name(std::string_view name);

/// The kind whose file-name prefix starts `stem` ("media-store-fs" -> media_store, "fs").
std::optional<std::pair<plugin::Kind, std::string>> parse_file_stem(std::string_view stem);

}  // namespace eltrix::plugins
