// `eltrix --list-plugins`: every plugin file in the plugin directories.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace eltrix::app {

/// A table of kind, name, version, ABI, status and path. Plugins this Eltrix
/// cannot load are listed too, with the reason, as far as their frozen
/// descriptor prefix can be read.
std::string list_plugins(const std::vector<std::filesystem::path>& directories);

}  // namespace eltrix::app
