#include "app/configuration.h"

#include "build_info.h"
#include "config/client_keys.h"
#include "config/core_keys.h"

#include <fmt/format.h>

#include <algorithm>

namespace eltrix::app {

namespace fs = std::filesystem;

namespace {

std::vector<config::Setting> read_sources(const CliOptions& options, LoadedConfiguration& out) {
  std::vector<config::Setting> settings;
  fs::path file = options.config_file ? fs::path(*options.config_file)
                                      : fs::path(ELTRIX_SYSCONFDIR) / "eltrix.conf";
  std::error_code ec;
  if (fs::exists(file, ec) || options.config_file) {
    auto parsed = config::read_config_file(file);
    out.sources.push_back(file.string());
    settings.insert(settings.end(), parsed.settings.begin(), parsed.settings.end());
    for (auto& error : parsed.errors) out.problems.push_back({"", std::move(error)});
  }
  for (const auto& extra : config::conf_d_files(file.parent_path() / "conf.d")) {
    auto parsed = config::read_config_file(extra);
    out.sources.push_back(extra.string());
    settings.insert(settings.end(), parsed.settings.begin(), parsed.settings.end());
    for (auto& error : parsed.errors) out.problems.push_back({"", std::move(error)});
  }
  return settings;
}

/// Kea's validate-without-activate: each configured plugin that offers a
/// validate function checks its values now, without creating anything, so
/// `--config=check` reports what its constructor would refuse. Skipped for a
/// plugin whose keys already failed their declared types.
void validate_plugins(plugins::Registry& registry, LoadedConfiguration& out) {
  for (const auto& selection : out.selections) {
    const auto* info = registry.find(selection.kind, selection.name);
    if (info == nullptr || info->descriptor == nullptr || info->descriptor->validate == nullptr) {
      continue;
    }
    const std::string owner = info->full_name();
    const bool typed_ok =
        std::none_of(out.problems.begin(), out.problems.end(), [&](const config::Problem& problem) {
          const config::Key* key = out.schema.find(problem.key);
          return key != nullptr && key->owner == owner;
        });
    if (!typed_ok) continue;
    std::vector<plugin::ConfigProblem> found;
    try {
      info->descriptor->validate(out.config, found);
    } catch (const std::exception& e) {
      found.push_back({selection.key,
                       fmt::format("{} could not check its configuration: {}", owner, e.what())});
    } catch (...) {
      found.push_back({selection.key, owner + " could not check its configuration"});
    }
    for (const auto& problem : found) {
      const config::Key* key = out.schema.find(problem.key);
      out.problems.push_back(key != nullptr
                                 ? config::make_problem(*key, out.config, problem.message)
                                 : config::Problem{problem.key, problem.message});
    }
  }
}

/// Limits that only make sense together. Each key is valid alone; the pair
/// is checked here, once both have their final values.
void check_combined_limits(LoadedConfiguration& out) {
  const auto has_problem = [&](const char* key) {
    return std::any_of(out.problems.begin(), out.problems.end(),
                       [&](const config::Problem& p) { return p.key == key; });
  };
  using config::keys::kHttpMaxParked;
  using config::keys::kSyncMaxWaiting;
  if (has_problem(kSyncMaxWaiting) || has_problem(kHttpMaxParked)) return;
  // A waiting sync is a parked request: beyond http.max_parked the server
  // would answer 503 where the sync should have answered at once (200).
  const auto waiting = out.config.get_int(kSyncMaxWaiting, 20000);
  const auto parked = out.config.get_int(kHttpMaxParked, 20000);
  if (waiting > parked) {
    out.problems.push_back(
        {kSyncMaxWaiting,
         fmt::format("{} = {} exceeds {} = {}: waiting syncs are parked requests; expected "
                     "{} at most {} (lower it, or raise {})",
                     kSyncMaxWaiting, waiting, kHttpMaxParked, parked, kSyncMaxWaiting, parked,
                     kHttpMaxParked)});
  }
}

}  // namespace

std::unique_ptr<LoadedConfiguration> load_configuration(const CliOptions& options,
                                                        plugins::Registry& registry,
                                                        const config::EnvLookup& env) {
  auto out = std::make_unique<LoadedConfiguration>();
  const auto settings = read_sources(options, *out);

  config::add_core_keys(out->schema);
  // First pass with the core keys only: enough to know which plugins to load.
  out->config = config::Config::resolve(out->schema, settings, env);
  out->selections = plugins::select_plugins(out->config);
  out->plugin_directories = plugins::plugin_directories(out->config);
  auto load_problems = plugins::load_selected(registry, out->schema, out->config, out->selections,
                                              out->plugin_directories);

  for (const auto& selection : out->selections) {
    const auto* info = registry.find(selection.kind, selection.name);
    if (info == nullptr) continue;
    try {
      out->schema.add_all(info->config_keys, info->full_name());
    } catch (const std::invalid_argument& e) {
      load_problems.push_back({selection.key, fmt::format("{}: {}", info->origin, e.what())});
    }
  }

  // Second pass: plugin keys now have defaults and environment variables.
  out->config = config::Config::resolve(out->schema, settings, env);
  auto problems = config::validate(out->schema, out->config);
  out->problems.insert(out->problems.end(), problems.begin(), problems.end());
  out->problems.insert(out->problems.end(), load_problems.begin(), load_problems.end());
  validate_plugins(registry, *out);
  check_combined_limits(*out);
  out->warnings = config::unknown_keys(out->schema, settings);
  return out;
}

config::Schema schema_with_all_plugins(const std::vector<fs::path>& directories) {
  config::Schema schema;
  config::add_core_keys(schema);
  for (const auto& file : plugins::scan_directories(directories)) {
    auto inspection = plugins::inspect(file.path);
    if (!inspection.info) continue;
    // Schema::add copies the strings, so the library may be unloaded after.
    schema.add_all(inspection.info->config_keys, inspection.info->full_name());
  }
  return schema;
}

}  // namespace eltrix::app
