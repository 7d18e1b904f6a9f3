// What the one-off commands (`eltrix user`, `eltrix admin`, `eltrix keys`)
// share with a starting node: the same configuration (file, conf.d,
// environment) and the primary database, migrated to the schema this binary
// expects and checked to belong to the configured server name. Each command
// reports its own errors under its own name, with the exit codes of cli.h.
#pragma once

#include "app/configuration.h"
#include "config/config.h"
#include "metrics/registry.h"
#include "plugins/registry.h"
#include "storage/database.h"

#include <memory>
#include <optional>
#include <string>

namespace eltrix::app {

class CommandSetup {
 public:
  /// `command` prefixes every message, e.g. "eltrix keys".
  explicit CommandSetup(std::string command);
  ~CommandSetup();
  CommandSetup(const CommandSetup&) = delete;
  CommandSetup& operator=(const CommandSetup&) = delete;

  /// Reads the configuration and loads the configured plugins. 0, or the
  /// exit code after the problems were printed (78).
  int load(const std::optional<std::string>& config_file, const config::EnvLookup& env);

  /// Connects to the primary (never a replica: a command reads what it wrote
  /// a moment before), applies pending migrations and pins or checks the
  /// server name, as a starting node does. 0, or the printed error's exit
  /// code (78 for configuration, 1 for the database).
  int open_database(std::size_t pool_size);

  [[nodiscard]] const config::Config& config() const { return loaded_->config; }
  [[nodiscard]] const LoadedConfiguration& loaded() const { return *loaded_; }
  [[nodiscard]] std::string server_name() const;
  plugins::Registry& registry() { return registry_; }
  metrics::Registry& metrics() { return metrics_; }
  storage::Database& db() { return *db_; }

  /// Prints "<command>: <message>" to standard error; returns `code`.
  int fail(const std::string& message, int code = 1) const;

 private:
  std::string command_;
  metrics::Registry metrics_;
  plugins::Registry registry_;
  std::unique_ptr<LoadedConfiguration> loaded_;
  std::unique_ptr<plugin::DbRouting> routing_;
  std::unique_ptr<storage::Database> db_;
};

}  // namespace eltrix::app
