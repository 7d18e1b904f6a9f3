#include "app/keys_command.h"

#include "app/command_setup.h"
#include "config/core_keys.h"
#include "errors/error.h"
#include "log/log.h"
#include "matrix/ids.h"
#include "matrix/signing_key_file.h"
#include "rooms/server_keys.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <fstream>
#include <iostream>
#include <iterator>
#include <system_error>

namespace eltrix::app {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("keys");
  return instance;
}

/// A key file is one short line; anything much longer is not one.
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

/// The longest grace a retired key may get: a week (a typo of a few zeros
/// should not keep a leaked key valid for years).
constexpr long kMaxGraceSeconds = 7L * 24 * 3600;

struct KeysArgs {
  std::string subcommand;
  std::optional<std::string> config_file;
  bool public_only = false;
  std::optional<std::string> output;
  std::optional<std::chrono::seconds> grace;  ///< default: twice the refresh
  std::optional<std::string> input;
};

int usage_error(const std::string& message) {
  fmt::print(stderr, "eltrix keys: {}\n\n{}", message, keys_command_usage());
  return kExitUsage;
}

std::optional<KeysArgs> parse(const std::vector<std::string>& args, std::string& error) {
  KeysArgs out;
  if (args.empty()) {
    error = "expected a subcommand: export, rotate or import";
    return std::nullopt;
  }
  out.subcommand = args[0];
  if (out.subcommand != "export" && out.subcommand != "rotate" && out.subcommand != "import") {
    error = fmt::format("unknown subcommand '{}'; expected export, rotate or import", args[0]);
    return std::nullopt;
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string arg = args[i];
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const bool takes_value =
        arg == "--config" || arg == "-c" || arg == "--output" || arg == "-o" || arg == "--grace";
    if (takes_value && !value) {
      if (i + 1 >= args.size()) {
        error = arg + " needs a value";
        return std::nullopt;
      }
      value = args[++i];
    }
    if (arg == "--config" || arg == "-c") {
      out.config_file = value;
    } else if ((arg == "--output" || arg == "-o") && out.subcommand == "export") {
      out.output = value;
    } else if (arg == "--public" && out.subcommand == "export" && !value) {
      out.public_only = true;
    } else if (arg == "--grace" && out.subcommand != "export") {
      char* end = nullptr;
      errno = 0;
      const long seconds = std::strtol(value->c_str(), &end, 10);
      if (value->empty() || *end != '\0' || errno != 0 || seconds < 0 ||
          seconds > kMaxGraceSeconds) {
        error = fmt::format("--grace is '{}'; expected whole seconds from 0 to {}", *value,
                            kMaxGraceSeconds);
        return std::nullopt;
      }
      out.grace = std::chrono::seconds(seconds);
    } else if (out.subcommand == "import" && !out.input && (arg == "-" || arg[0] != '-')) {
      out.input = arg;
    } else {
      error = fmt::format("'{}' is not an option of 'keys {}'", args[i], out.subcommand);
      return std::nullopt;
    }
  }
  if (out.subcommand == "import" && !out.input) {
    error = "import needs the key file (Synapse's signing.key), or - for standard input";
    return std::nullopt;
  }
  if (out.public_only && out.output) {
    error = "--output is for the secret key; print the public keys with --public alone";
    return std::nullopt;
  }
  return out;
}

std::string os_error(int code) {
  return std::error_code(code, std::generic_category()).message();
}

/// Writes `text` to a new file that only its owner can read. Never replaces
/// an existing file: that may be the only copy of another key.
bool write_new_secret_file(const std::string& path, const std::string& text, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = fmt::format("cannot create '{}': {}{}", path, os_error(errno),
                        errno == EEXIST ? " (an existing key file is never overwritten)" : "");
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int saved = errno;
  if (::close(fd) != 0 || !ok) {
    error = fmt::format("cannot write '{}': {}", path, os_error(ok ? errno : saved));
    ::unlink(path.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> read_key_file(const std::string& path, std::string& error) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = fmt::format("cannot read the key file '{}': {}", path, os_error(errno));
      return std::nullopt;
    }
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (text.size() > kMaxKeyFileBytes) {
    error = fmt::format("the key file '{}' is {} bytes; a signing key file is one short line", path,
                        text.size());
    return std::nullopt;
  }
  return text;
}

nlohmann::json public_keys(const std::string& server_name,
                           const std::vector<rooms::VerifyKey>& keys) {
  nlohmann::json out = {{"server_name", server_name},
                        {"verify_keys", nlohmann::json::object()},
                        {"old_verify_keys", nlohmann::json::object()}};
  for (const auto& key : keys) {
    if (key.expired_ts) {
      out["old_verify_keys"][key.key_id] = {{"key", key.public_key_base64},
                                            {"expired_ts", *key.expired_ts}};
    } else {
      out["verify_keys"][key.key_id] = {{"key", key.public_key_base64}};
    }
  }
  return out;
}

int run_export(CommandSetup& setup, const KeysArgs& args) {
  if (args.public_only) {
    auto keys = setup.db().write(
        [](storage::Transaction& tx) { return rooms::ServerKeys::read_verify_keys(tx); });
    fmt::print("{}\n", public_keys(setup.server_name(), keys).dump(2));
    return 0;
  }
  // Exporting before the first start creates the key, as a first node would.
  auto key = setup.db().write([](storage::Transaction& tx) {
    rooms::ServerKeys::ensure_key(tx);
    return rooms::ServerKeys::read_current(tx);
  });
  if (!key) return setup.fail("the database has no current signing key");
  const std::string text = matrix::format_signing_key_file(*key);
  logger().info("signing key exported",
                {{"key_id", key->key_id()}, {"to", args.output.value_or("standard output")}});
  if (!args.output) {
    fmt::print("{}", text);
    return 0;
  }
  std::string error;
  if (!write_new_secret_file(*args.output, text, error)) return setup.fail(error);
  fmt::print(stderr, "eltrix keys: wrote {} to {} (mode 600)\n", key->key_id(), *args.output);
  return 0;
}

int run_replace(CommandSetup& setup, const KeysArgs& args, const matrix::SigningKey& next) {
  // Nodes look again every `refresh`: the replaced key must stay valid for
  // what a node signs until then, and some more for clock skew.
  const std::chrono::seconds refresh(setup.config().get_int(config::keys::kSigningKeyRefresh, 60));
  const std::chrono::seconds grace = args.grace.value_or(2 * refresh);
  std::optional<std::string> retired;
  bool unchanged = false;
  try {
    setup.db().write([&](storage::Transaction& tx) {
      if (auto current = rooms::ServerKeys::read_current(tx);
          current && current->key_id() == next.key_id() &&
          current->public_key_base64() == next.public_key_base64()) {
        unchanged = true;
        return;
      }
      retired = rooms::ServerKeys::replace(tx, next, grace);
    });
  } catch (const errors::Error& e) {
    return setup.fail(e.what());
  }
  if (unchanged) {
    fmt::print("{} is the signing key already; nothing changed\n", next.key_id());
    return 0;
  }
  logger().info("signing key replaced", {{"key_id", next.key_id()},
                                         {"retired", retired.value_or("")},
                                         {"how", args.subcommand},
                                         {"grace_s", std::to_string(grace.count())}});
  fmt::print("{} is the signing key now.\n", next.key_id());
  if (retired) {
    fmt::print(
        "{} is retired: its seed is erased, its public key stays published and valid for {} s.\n",
        *retired, grace.count());
  }
  fmt::print("Every node signs with the new key within {} s ({}); no restart is needed.\n",
             refresh.count(), config::keys::kSigningKeyRefresh);
  return 0;
}

}  // namespace

std::string keys_command_usage() {
  return "Usage: eltrix keys export [--config FILE] [--public] [--output FILE]\n"
         "       eltrix keys rotate [--config FILE] [--grace SECONDS]\n"
         "       eltrix keys import [--config FILE] [--grace SECONDS] FILE|-\n"
         "\n"
         "The server's ed25519 signing key, shared by every node (in the database).\n"
         "\n"
         "  export          print the signing key in Synapse's signing.key format (the\n"
         "                  secret); --output writes it to a new file of mode 600;\n"
         "                  --public prints the public keys instead, as JSON\n"
         "  rotate          make a new random key the signing key\n"
         "  import FILE|-   make the key in a Synapse signing.key file the signing key\n"
         "  --grace SECONDS how long the replaced key stays valid for what was signed\n"
         "                  with it meanwhile (default: twice server.signing_key_refresh,\n"
         "                  the time every node takes to switch; 120 by default)\n"
         "\n"
         "Exit codes: 0 success, 1 failure, 64 usage, 78 configuration.\n";
}

int run_keys_command(const std::vector<std::string>& args, const config::EnvLookup& env) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    fmt::print("{}", keys_command_usage());
    return 0;
  }
  std::string error;
  auto parsed = parse(args, error);
  if (!parsed) return usage_error(error);

  // The key to import is checked before anything touches the database.
  std::optional<matrix::SigningKey> imported;
  if (parsed->subcommand == "import") {
    auto text = read_key_file(*parsed->input, error);
    if (!text) {
      fmt::print(stderr, "eltrix keys: {}\n", error);
      return 1;
    }
    imported = matrix::parse_signing_key_file(*text, error);
    if (!imported) {
      fmt::print(stderr, "eltrix keys: {}: {}\n",
                 *parsed->input == "-" ? "standard input" : *parsed->input, error);
      return 1;
    }
  }

  CommandSetup setup("eltrix keys");
  if (int code = setup.load(parsed->config_file, env); code != 0) return code;
  if (int code = setup.open_database(1); code != 0) return code;
  try {
    if (parsed->subcommand == "export") return run_export(setup, *parsed);
    if (parsed->subcommand == "import") return run_replace(setup, *parsed, *imported);
    return run_replace(setup, *parsed,
                       matrix::SigningKey::generate("a_" + matrix::random_string(4)));
  } catch (const std::exception& e) {
    return setup.fail(fmt::format("database error: {}", e.what()));
  }
}

}  // namespace eltrix::app
