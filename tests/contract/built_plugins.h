// The plugin files built with this tree (generated from plugins/meson.build's
// plugin_targets by gen_built_plugins.py).
#pragma once

#include <filesystem>
#include <vector>

namespace eltrix::contract {

const std::vector<std::filesystem::path>& built_plugin_files();

}  // namespace eltrix::contract
