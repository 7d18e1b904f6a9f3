// `eltrix keys`: the server's signing key from the command line of a node.
//
//   eltrix keys export [--config FILE] [--public] [--output FILE]
//   eltrix keys rotate [--config FILE] [--grace SECONDS]
//   eltrix keys import [--config FILE] [--grace SECONDS] FILE|-
//
// export prints the current key in Synapse's signing.key format (the secret:
// with --output it is written to a new file of mode 600, never over an
// existing one), or with --public the public keys as the key server
// publishes them (verify_keys, and old_verify_keys with expired_ts). rotate
// makes a new random key the signing key; import makes a Synapse signing.key
// the signing key (moving a server from Synapse keeps its identity). Both
// retire the key in use: its seed is erased, its public half kept, valid for
// --grace seconds more (default: twice server.signing_key_refresh) because
// every node of the deployment only notices within that refresh
// (rooms/server_keys.h). Like `eltrix user`, it
// reads the node's configuration and works on the primary database after
// applying pending migrations. Exit codes: 0, 1 on failure, 64 usage, 78
// configuration.
#pragma once

#include "config/config.h"

#include <string>
#include <vector>

namespace eltrix::app {

std::string keys_command_usage();

/// Runs `eltrix keys <args>`; returns the process exit code.
int run_keys_command(const std::vector<std::string>& args, const config::EnvLookup& env);

}  // namespace eltrix::app
