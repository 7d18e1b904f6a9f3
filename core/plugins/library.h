// Opening plugin files: ELF checks, dlopen, and the descriptor symbol.
#pragma once

#include "plugins/descriptor_check.h"

#include <eltrix/plugin/descriptor.h>

#include <filesystem>
#include <memory>
#include <string>

namespace eltrix::plugins {

/// A mapped plugin library and its descriptor. The descriptor pointer is
/// valid while `library` is held.
struct OpenedLibrary {
  std::shared_ptr<void> library;
  const plugin::Descriptor* descriptor = nullptr;
};

/// Verifies the file is an ELF shared object whose symbol table has the
/// descriptor symbol in the descriptor section, then maps it with
/// RTLD_NOW | RTLD_LOCAL. Throws LoadError naming the path.
OpenedLibrary open_library(const std::filesystem::path& path);

/// A plugin file found in a plugin directory, before it is opened.
struct PluginFile {
  std::filesystem::path path;
  plugin::Kind kind{};
  std::string name;
};

/// Files named `<kind>-<name>.so` in `directories`, in directory order, then
/// by name. Unreadable or missing directories are skipped.
std::vector<PluginFile> scan_directories(const std::vector<std::filesystem::path>& directories);

/// What `--list-plugins` shows for a file: the descriptor when it can be read
/// (even for an ABI this Eltrix cannot load) and any reason it cannot be used.
struct Inspection {
  std::filesystem::path path;
  std::optional<PrefixView> prefix;
  std::optional<PluginInfo> info;  ///< set when the plugin would load
  std::string problem;             ///< empty when it would load
  std::shared_ptr<void> library;   ///< keeps info's strings and keys valid
};
Inspection inspect(const std::filesystem::path& path);

}  // namespace eltrix::plugins
