// `eltrix user create`: creates an account from the command line of a node,
// for bootstrapping the first admin or when open registration is off.
//
//   eltrix user create <localpart> [--config FILE] [--admin]
//                      [--displayname NAME]
//                      [--password-file FILE | --password-stdin]
//
// It reads the same configuration as the server (file, conf.d, environment),
// connects to the primary database and applies pending migrations exactly as
// a starting node does (so it works before the first start, and never against
// a schema older than the binary), then checks the user ID and the password
// policy, hashes the password and inserts the account. The password is never
// echoed or logged; without --password-file or --password-stdin it is asked
// for twice on the terminal.
#pragma once

#include "config/config.h"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::app {

/// Exit codes of `eltrix user ...`.
inline constexpr int kUserOk = 0;
inline constexpr int kUserFailed = 1;  ///< the user exists, invalid input, database trouble

struct UserCreateOptions {
  std::string localpart;  ///< or a full "@localpart:server" user ID
  std::optional<std::string> config_file;
  bool admin = false;
  std::optional<std::string> displayname;
  std::optional<std::string> password_file;
  bool password_stdin = false;
};

struct UserCommandParse {
  std::optional<UserCreateOptions> options;
  bool help = false;
  std::string error;  ///< set when neither options nor help
};

/// Parses the arguments after "user" ("create", the localpart, options).
UserCommandParse parse_user_command(const std::vector<std::string>& args);

std::string user_command_usage();

/// Runs `eltrix user <args>`; returns the process exit code (0, 1, 64 for
/// usage errors, 78 for configuration errors).
int run_user_command(const std::vector<std::string>& args, const config::EnvLookup& env);

}  // namespace eltrix::app
