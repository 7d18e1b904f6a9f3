// `eltrix admin`: the admin API (docs/admin-api.md) from the command line of
// a node, for scripts and for when no admin token is at hand:
//
//   eltrix admin [--config FILE] [--as USER_ID] METHOD PATH [BODY | -]
//
//   eltrix admin GET '/_synapse/admin/v2/users?name=ali'
//   eltrix admin POST v1/deactivate/@bob:example.org '{"erase": true}'
//   eltrix admin POST v1/registration_tokens/new '{"uses_allowed": 5}'
//   eltrix admin DELETE v2/rooms/!abc:example.org '{"block": true}'
//
// PATH is an admin API path; a relative one is taken under /_synapse/admin/.
// BODY is JSON text, or "-" to read it from standard input. The request runs
// in this process through the very handlers a node serves, against the
// database the configuration names (after applying pending migrations, as
// user_command does), as if a server admin had made it: `--as` names that
// admin (what blocked_by, quarantined_by and the log record; default
// "@eltrix-cli:<server name>"). The response's JSON goes to standard output;
// a room deletion (v2) is waited for, and its final status printed.
// The answer (a Matrix error too) goes to standard output. Exit codes: 0 for
// a 2xx answer, 1 otherwise, 64 for usage errors, 78 for configuration
// errors.
#pragma once

#include "config/config.h"

#include <string>
#include <vector>

namespace eltrix::app {

std::string admin_command_usage();

int run_admin_command(const std::vector<std::string>& args, const config::EnvLookup& env);

}  // namespace eltrix::app
