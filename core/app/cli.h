// Command-line parsing for the eltrix binary.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace eltrix::app {

enum class Mode {
  run,             ///< serve (the default)
  check,           ///< --config=check: validate and exit
  print_default,   ///< --config=default: print a commented config file
  print_markdown,  ///< --config=markdown: print docs/config-reference.md
  list_plugins,    ///< --list-plugins
  version,
  help,
};

struct CliOptions {
  Mode mode = Mode::run;
  std::optional<std::string> config_file;  ///< --config FILE / --config=FILE
};

struct CliResult {
  std::optional<CliOptions> options;
  std::string error;  ///< set when options is empty
};

/// `--config` is both the file option (`--config FILE`, `--config=/path`) and
/// the mode option (`--config=check`, `--config=default`), as in PowerDNS; the
/// values check/default/markdown are modes, anything else is a file.
CliResult parse_cli(const std::vector<std::string>& args);

std::string usage();

}  // namespace eltrix::app
