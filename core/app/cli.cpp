#include "app/cli.h"

namespace eltrix::app {
namespace {

bool set_mode(CliOptions& options, Mode mode, std::string& error, const std::string& arg) {
  if (options.mode != Mode::run && options.mode != mode) {
    error = "'" + arg + "' conflicts with an earlier option; expected one action at a time";
    return false;
  }
  options.mode = mode;
  return true;
}

}  // namespace

CliResult parse_cli(const std::vector<std::string>& args) {
  CliOptions options;
  std::string error;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::optional<std::string> config_value;
    if (arg == "--config" || arg == "-c") {
      if (i + 1 >= args.size())
        return {std::nullopt, "--config needs a value: a file, check or default"};
      config_value = args[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_value = arg.substr(9);
    } else if (arg == "--list-plugins") {
      if (!set_mode(options, Mode::list_plugins, error, arg)) return {std::nullopt, error};
      continue;
    } else if (arg == "--version" || arg == "-V") {
      if (!set_mode(options, Mode::version, error, arg)) return {std::nullopt, error};
      continue;
    } else if (arg == "--help" || arg == "-h") {
      options.mode = Mode::help;
      continue;
    } else {
      return {std::nullopt, "unknown argument '" + arg + "'; expected one of the options below"};
    }

    if (config_value->empty())
      return {std::nullopt, "--config needs a value: a file, check or default"};
    if (*config_value == "check") {
      if (!set_mode(options, Mode::check, error, arg)) return {std::nullopt, error};
    } else if (*config_value == "default") {
      if (!set_mode(options, Mode::print_default, error, arg)) return {std::nullopt, error};
    } else if (*config_value == "markdown") {
      if (!set_mode(options, Mode::print_markdown, error, arg)) return {std::nullopt, error};
    } else {
      if (options.config_file) return {std::nullopt, "--config FILE given twice"};
      options.config_file = *config_value;
    }
  }
  return {options, {}};
}

std::string usage() {
  return "Usage: eltrix [--config FILE] [--config=check | --config=default | --list-plugins]\n"
         "       eltrix user create <localpart> [options]  (see eltrix user --help)\n"
         "       eltrix admin METHOD PATH [BODY]           (see eltrix admin --help)\n"
         "       eltrix keys export|rotate|import          (see eltrix keys --help)\n"
         "\n"
         "Runs the Eltrix Matrix homeserver in the foreground.\n"
         "\n"
         "  --config FILE      read FILE instead of /etc/eltrix/eltrix.conf; conf.d/*.conf\n"
         "                     next to it is read too\n"
         "  --config=check     validate the configuration and the configured plugins, then exit\n"
         "  --config=default   print a commented configuration file with every key\n"
         "  --config=markdown  print the configuration reference (docs/config-reference.md)\n"
         "  --list-plugins     list every plugin in the plugin directories\n"
         "  --version          print the version\n"
         "\n"
         "Every key can also be set by an environment variable (see --config=default).\n"
         "Exit codes: 0 success, 64 usage error, 78 configuration error.\n";
}

}  // namespace eltrix::app
