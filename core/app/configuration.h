// Start-up configuration: read the sources, load the configured plugins (which
// declare more keys), then validate everything and report all problems at once.
#pragma once

#include "app/cli.h"
#include "config/config.h"
#include "config/schema.h"
#include "config/validate.h"
#include "plugins/registry.h"
#include "plugins/selection.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace eltrix::app {

/// Exit code for configuration errors (sysexits.h EX_CONFIG); the systemd
/// unit's RestartPreventExitStatus=78 stops restart loops on a broken config.
inline constexpr int kExitConfig = 78;
inline constexpr int kExitUsage = 64;

struct LoadedConfiguration {
  config::Schema schema;
  config::Config config;  ///< refers to schema: the struct is never moved
  std::vector<plugins::Selection> selections;
  std::vector<std::filesystem::path> plugin_directories;
  std::vector<config::Problem> problems;  ///< fatal: exit 78 when non-empty
  std::vector<std::string> warnings;
  std::vector<std::string> sources;  ///< files read, in order
};

/// Reads defaults, the config file, conf.d and the environment; loads the
/// configured plugins into `registry` and validates the result.
std::unique_ptr<LoadedConfiguration> load_configuration(const CliOptions& options,
                                                        plugins::Registry& registry,
                                                        const config::EnvLookup& env);

/// The core's keys plus those of every plugin found in `directories`, for
/// the generated config file and reference.
config::Schema schema_with_all_plugins(const std::vector<std::filesystem::path>& directories);

}  // namespace eltrix::app
