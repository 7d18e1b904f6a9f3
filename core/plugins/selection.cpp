#include "plugins/selection.h"

#include "build_info.h"
#include "config/core_keys.h"

#include <fmt/format.h>

namespace eltrix::plugins {

namespace fs = std::filesystem;
using config::keys::kCacheBackend;
using config::keys::kClusterEnabled;
using config::keys::kClusterStrategy;
using config::keys::kDatabaseReplicaUrls;
using config::keys::kDatabaseRouting;
using config::keys::kMediaStore;

std::vector<Selection> select_plugins(const config::Config& config) {
  std::vector<Selection> out;
  out.push_back({kCacheBackend, plugin::Kind::cache, config.get_string(kCacheBackend, "local")});

  std::string media = config.get_string(kMediaStore, "local");
  out.push_back({kMediaStore, plugin::Kind::media_store, media == "local" ? "fs" : media});

  std::string routing = config.get_string(kDatabaseRouting, "auto");
  if (routing == "auto") {
    routing = config.get_list(kDatabaseReplicaUrls).empty() ? "primary" : "replicas";
  }
  out.push_back({kDatabaseRouting, plugin::Kind::db_routing, routing});

  auto cluster = config.get(kClusterEnabled);
  if (cluster && plugin::Config::parse_bool(*cluster).value_or(false)) {
    std::string strategy = config.get_string(kClusterStrategy, "static");
    out.push_back({kClusterStrategy, plugin::Kind::cluster_strategy,
                   strategy == "epmd" ? "static" : strategy});
  }
  return out;
}

std::vector<fs::path> plugin_directories(const config::Config& config) {
  std::vector<fs::path> dirs;
  for (const auto& dir : config.get_list(config::keys::kPluginDirectory)) dirs.emplace_back(dir);
  if (!dirs.empty()) return dirs;
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::equivalent(self, ELTRIX_BUILD_BINARY, ec) && !ec) {
    return {fs::path(ELTRIX_BUILD_PLUGIN_DIR)};
  }
  return {fs::path(ELTRIX_INSTALL_PLUGIN_DIR)};
}

std::string describe_installed(plugin::Kind kind, const std::vector<PluginFile>& files) {
  std::string out;
  for (const auto& file : files) {
    if (file.kind != kind) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} ({})", file.name, file.path.string());
  }
  return out.empty() ? std::string("none") : out;
}

std::vector<config::Problem> load_selected(Registry& registry, const config::Schema& schema,
                                           const config::Config& config,
                                           const std::vector<Selection>& selections,
                                           const std::vector<fs::path>& directories) {
  std::vector<config::Problem> problems;
  const auto files = scan_directories(directories);
  std::string searched;
  for (const auto& dir : directories) searched += (searched.empty() ? "" : ", ") + dir.string();

  for (const auto& selection : selections) {
    const config::Key* key = schema.find(selection.key);
    auto problem = [&](const std::string& expected) {
      problems.push_back(key != nullptr ? config::make_problem(*key, config, expected)
                                        : config::Problem{selection.key, expected});
    };
    std::vector<const PluginFile*> matches;
    for (const auto& file : files) {
      if (file.kind == selection.kind && file.name == selection.name) matches.push_back(&file);
    }
    if (matches.empty()) {
      problem(fmt::format("expected an installed {} plugin; installed {} plugins: {} (searched {})",
                          plugin::kind_name(selection.kind), plugin::kind_name(selection.kind),
                          describe_installed(selection.kind, files), searched));
      continue;
    }
    // Every match is loaded so that a second copy is reported as a duplicate
    // instead of being silently shadowed.
    for (const auto* match : matches) {
      try {
        registry.load_file(match->path);
      } catch (const LoadError& e) {
        problem(fmt::format("the {} plugin '{}' cannot be used: {}",
                            plugin::kind_name(selection.kind), selection.name, e.what()));
        break;
      }
    }
  }
  return problems;
}

}  // namespace eltrix::plugins
