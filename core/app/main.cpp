// The eltrix binary: parses the command line, then checks, documents or runs
// the configured node.
#include "app/admin_command.h"
#include "app/cli.h"
#include "app/configuration.h"
#include "app/keys_command.h"
#include "app/list_plugins.h"
#include "app/node.h"
#include "app/user_command.h"
#include "build_info.h"
#include "config/core_keys.h"
#include "config/render.h"
#include "log/log.h"
#include "metrics/registry.h"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>

namespace {

using namespace eltrix;

void print_problems(const app::LoadedConfiguration& loaded) {
  for (const auto& warning : loaded.warnings) fmt::print(stderr, "eltrix: warning: {}\n", warning);
  for (const auto& problem : loaded.problems) {
    fmt::print(stderr, "eltrix: configuration error: {}\n", problem.message);
  }
  if (!loaded.problems.empty()) {
    std::string sources;
    for (const auto& s : loaded.sources) sources += (sources.empty() ? "" : ", ") + s;
    fmt::print(stderr, "eltrix: {} configuration error(s); sources read: {}, environment\n",
               loaded.problems.size(), sources.empty() ? "no files" : sources);
  }
}

void print_check_summary(const app::LoadedConfiguration& loaded, plugins::Registry& registry) {
  fmt::print("configuration OK\n");
  for (const auto& source : loaded.sources) fmt::print("  read {}\n", source);
  for (const auto& selection : loaded.selections) {
    const auto* info = registry.find(selection.kind, selection.name);
    if (info == nullptr) continue;
    fmt::print("  {} = {}: {} {} ({})\n", selection.key, selection.name, info->full_name(),
               info->version, info->origin);
  }
}

int run(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "user") {
    return app::run_user_command({args.begin() + 1, args.end()}, config::process_env());
  }
  if (!args.empty() && args[0] == "keys") {
    return app::run_keys_command({args.begin() + 1, args.end()}, config::process_env());
  }
  if (!args.empty() && args[0] == "admin") {
    return app::run_admin_command({args.begin() + 1, args.end()}, config::process_env());
  }
  auto parsed = app::parse_cli(args);
  if (!parsed.options) {
    fmt::print(stderr, "eltrix: {}\n\n{}", parsed.error, app::usage());
    return app::kExitUsage;
  }
  const app::CliOptions& options = *parsed.options;
  if (options.mode == app::Mode::help) {
    fmt::print("{}", app::usage());
    return 0;
  }
  if (options.mode == app::Mode::version) {
    fmt::print("eltrix {} (plugin ABI {}.{})\n", ELTRIX_VERSION, plugin::kAbiMajor,
               plugin::kAbiMinor);
    return 0;
  }

  log::init(log::Format::text, log::Level::info);
  metrics::Registry metrics;
  plugins::Registry registry(metrics);
  auto loaded = app::load_configuration(options, registry, config::process_env());

  switch (options.mode) {
    case app::Mode::list_plugins:
      fmt::print("{}", app::list_plugins(loaded->plugin_directories));
      return 0;
    case app::Mode::print_default:
      fmt::print(
          "{}", config::render_conf_file(app::schema_with_all_plugins(loaded->plugin_directories)));
      return 0;
    case app::Mode::print_markdown:
      fmt::print("{}",
                 config::render_markdown(app::schema_with_all_plugins(loaded->plugin_directories)));
      return 0;
    default: break;
  }

  print_problems(*loaded);
  if (!loaded->problems.empty()) return app::kExitConfig;
  if (options.mode == app::Mode::check) {
    print_check_summary(*loaded, registry);
    return 0;
  }

  log::Level level = log::Level::info;
  log::parse_level(loaded->config.get_string(config::keys::kLogLevel, "info"), level);
  log::init(loaded->config.get_string(config::keys::kLogFormat, "text") == "json"
                ? log::Format::json
                : log::Format::text,
            level);
  return app::run_node(*loaded, registry, metrics);
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the blocked set and
  // SIGTERM reaches only the main thread's sigwait.
  eltrix::app::block_termination_signals();
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    fmt::print(stderr, "eltrix: fatal: {}\n", e.what());
    return 1;
  }
}
