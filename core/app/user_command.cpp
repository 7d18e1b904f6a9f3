#include "app/user_command.h"

#include "accounts/password_rules.h"
#include "accounts/username.h"
#include "app/command_setup.h"
#include "config/core_keys.h"
#include "crypto/password.h"
#include "crypto/secret.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "storage/accounts.h"
#include "storage/database.h"

#include <fmt/format.h>

#include <termios.h>
#include <unistd.h>
#include <csignal>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace eltrix::app {
namespace {

namespace keys = config::keys;

// The terminal state to restore if the user interrupts a hidden prompt;
// otherwise the shell would be left without echo.
termios g_saved_termios{};
volatile std::sig_atomic_t g_echo_off = 0;

extern "C" void restore_terminal_and_exit(int) {
  if (g_echo_off != 0) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  _exit(130);
}

/// Reads a line from the terminal without echoing it.
std::optional<std::string> prompt_hidden(const char* prompt) {
  fmt::print(stderr, "{}", prompt);
  std::fflush(stderr);
  termios hidden{};
  if (tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return std::nullopt;
  hidden = g_saved_termios;
  hidden.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  auto* previous = std::signal(SIGINT, restore_terminal_and_exit);
  g_echo_off = 1;
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &hidden);
  std::string line;
  const bool ok = static_cast<bool>(std::getline(std::cin, line));
  tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  g_echo_off = 0;
  std::signal(SIGINT, previous);
  fmt::print(stderr, "\n");
  if (!ok) return std::nullopt;
  return line;
}

void strip_line_end(std::string& text) {
  // Only the final line break: spaces at the end may be part of the password.
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
}

/// The password from the chosen source; error message otherwise.
std::optional<std::string> read_password(const UserCreateOptions& options, std::string& error) {
  if (options.password_file) {
    std::ifstream in(*options.password_file, std::ios::binary);
    if (!in) {
      error = fmt::format("cannot read the password file '{}'", *options.password_file);
      return std::nullopt;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    strip_line_end(text);
    return text;
  }
  const bool tty = isatty(STDIN_FILENO) != 0;
  if (options.password_stdin && !tty) {
    std::string line;
    if (!std::getline(std::cin, line)) {
      error = "no password on standard input";
      return std::nullopt;
    }
    strip_line_end(line);
    return line;
  }
  if (!tty) {
    error = "no password given: use --password-file FILE or --password-stdin";
    return std::nullopt;
  }
  auto first = prompt_hidden("Password: ");
  if (!first) {
    error = "no password entered";
    return std::nullopt;
  }
  auto second = prompt_hidden("Confirm password: ");
  if (!second || !crypto::secret_equal(*first, *second)) {
    crypto::wipe(*first);
    if (second) crypto::wipe(*second);
    error = "the passwords do not match";
    return std::nullopt;
  }
  crypto::wipe(*second);
  return first;
}

int fail(const std::string& message, int code = kUserFailed) {
  fmt::print(stderr, "eltrix user: {}\n", message);
  return code;
}

int create_user(const UserCreateOptions& options, const config::EnvLookup& env) {
  CommandSetup setup("eltrix user");
  if (int code = setup.load(options.config_file, env); code != 0) return code;
  const config::Config& config = setup.config();
  const std::string server_name = config.get_string(keys::kServerName);

  // Input first: a typo in the name should not cost a database round trip.
  std::string localpart = options.localpart;
  if (!localpart.empty() && localpart.front() == '@') {
    const auto colon = localpart.find(':');
    if (colon == std::string::npos || localpart.substr(colon + 1) != server_name) {
      return fail(fmt::format("'{}' is not a user ID on this server ({})", localpart, server_name));
    }
    localpart = localpart.substr(1, colon - 1);
  }
  if (auto why = accounts::check_new_localpart(localpart, server_name)) {
    return fail(
        fmt::format("invalid user name '{}': {} (user IDs are lower case)", localpart, *why));
  }
  const std::string user_id = accounts::make_user_id(localpart, server_name);

  std::string error;
  auto password = read_password(options, error);
  if (!password) return fail(error);
  if (auto why = crypto::check_password_policy(accounts::password_policy(config), *password)) {
    crypto::wipe(*password);
    return fail("password refused: " + *why);
  }
  const std::string hash = crypto::hash_password(*password);
  crypto::wipe(*password);

  if (int code = setup.open_database(1); code != 0) return code;
  try {
    const bool created = setup.db().write([&](storage::Transaction& tx) {
      return storage::create_user(tx,
                                  {.user_id = user_id,
                                   .password_hash = hash,
                                   .admin = options.admin,
                                   .displayname = options.displayname.value_or(localpart)},
                                  storage::now_ms());
    });
    if (!created) return fail(fmt::format("user {} already exists", user_id));
  } catch (const std::exception& e) {
    return fail(fmt::format("database error: {}", e.what()));
  }
  fmt::print("created user {}{}\n", user_id, options.admin ? " (admin)" : "");
  return kUserOk;
}

}  // namespace

UserCommandParse parse_user_command(const std::vector<std::string>& args) {
  UserCommandParse out;
  if (args.empty()) return {std::nullopt, false, "expected a subcommand: create"};
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") return {std::nullopt, true, {}};
  if (args[0] != "create") {
    return {std::nullopt, false, fmt::format("unknown subcommand '{}'; expected create", args[0])};
  }
  UserCreateOptions options;
  bool have_localpart = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") return {std::nullopt, true, {}};
    if (arg == "--admin") {
      options.admin = true;
    } else if (arg == "--password-stdin") {
      options.password_stdin = true;
    } else if (arg == "--password-file" || arg == "--displayname" || arg == "--config" ||
               arg == "-c") {
      auto v = value();
      if (!v) return {std::nullopt, false, fmt::format("{} needs a value", arg)};
      if (arg == "--password-file") options.password_file = *v;
      if (arg == "--displayname") options.displayname = *v;
      if (arg == "--config" || arg == "-c") options.config_file = *v;
    } else if (arg.rfind("--config=", 0) == 0) {
      options.config_file = arg.substr(9);
    } else if (arg.rfind("--password-file=", 0) == 0) {
      options.password_file = arg.substr(16);
    } else if (arg.rfind("--displayname=", 0) == 0) {
      options.displayname = arg.substr(14);
    } else if (arg == "--password" || arg == "-p" || arg.rfind("--password=", 0) == 0) {
      // A password on the command line is visible to every local user (ps,
      // /proc) and lands in shell history.
      return {std::nullopt, false,
              "passwords are not taken on the command line; use --password-file or "
              "--password-stdin"};
    } else if (!arg.empty() && arg.front() == '-') {
      return {std::nullopt, false, fmt::format("unknown option '{}'", arg)};
    } else if (!have_localpart) {
      options.localpart = arg;
      have_localpart = true;
    } else {
      return {std::nullopt, false, fmt::format("unexpected argument '{}'", arg)};
    }
  }
  if (!have_localpart) return {std::nullopt, false, "expected the new user's name"};
  if (options.password_file && options.password_stdin) {
    return {std::nullopt, false, "--password-file and --password-stdin exclude each other"};
  }
  if (options.config_file && options.config_file->empty()) {
    return {std::nullopt, false, "--config needs a file"};
  }
  out.options = std::move(options);
  return out;
}

std::string user_command_usage() {
  return "Usage: eltrix user create <localpart> [--config FILE] [--admin] [--displayname NAME]\n"
         "                          [--password-file FILE | --password-stdin]\n"
         "\n"
         "Creates a local account in the database of the configured server. Reads the same\n"
         "configuration as the server and applies pending database migrations first.\n"
         "\n"
         "  --config FILE        read FILE instead of /etc/eltrix/eltrix.conf\n"
         "  --admin              make the account a server admin\n"
         "  --displayname NAME   initial display name (default: the localpart)\n"
         "  --password-file FILE read the password from FILE (one line)\n"
         "  --password-stdin     read the password from standard input (one line); on a\n"
         "                       terminal, and without either option, it is asked for twice\n"
         "\n"
         "Exit codes: 0 created, 1 the user exists or the input is invalid, 64 usage error,\n"
         "78 configuration error.\n";
}

int run_user_command(const std::vector<std::string>& args, const config::EnvLookup& env) {
  // main() blocks these for the server's sigwait; a command-line tool must
  // stay interruptible (Ctrl-C at the password prompt).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

  auto parsed = parse_user_command(args);
  if (parsed.help) {
    fmt::print("{}", user_command_usage());
    return kUserOk;
  }
  if (!parsed.options) {
    fmt::print(stderr, "eltrix user: {}\n\n{}", parsed.error, user_command_usage());
    return kExitUsage;
  }
  // Warnings and errors only: the command prints its own result.
  log::init(log::Format::text, log::Level::warn);
  return create_user(*parsed.options, env);
}

}  // namespace eltrix::app
