// From configuration to plugins: which ones are configured, where their
// files are, and loading exactly those.
#pragma once

#include "config/config.h"
#include "config/validate.h"
#include "plugins/library.h"
#include "plugins/registry.h"

#include <filesystem>
#include <string>
#include <vector>

namespace eltrix::plugins {

/// One configured plugin: the key that chose it and the resolved name
/// (aliases applied: media.store 'local' is 'fs', cluster.strategy 'epmd' is
/// 'static', database.routing 'auto' is 'primary' or 'replicas').
struct Selection {
  std::string key;
  plugin::Kind kind{};
  std::string name;
};

std::vector<Selection> select_plugins(const config::Config& config);

/// plugins.directory when set; otherwise the build tree's plugin directory
/// when this binary is the one in the build tree, else the installed one.
std::vector<std::filesystem::path> plugin_directories(const config::Config& config);

/// Loads the selected plugins into `registry`. Every failure becomes a
/// problem on the selecting key that names the value, the file and the
/// installed plugins of that kind, so the caller reports them all at once.
std::vector<config::Problem> load_selected(Registry& registry, const config::Schema& schema,
                                           const config::Config& config,
                                           const std::vector<Selection>& selections,
                                           const std::vector<std::filesystem::path>& directories);

/// "local (/usr/lib/.../cache-local.so), redis (...)" or "none".
std::string describe_installed(plugin::Kind kind, const std::vector<PluginFile>& files);

}  // namespace eltrix::plugins
