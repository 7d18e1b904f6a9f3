#include "app/command_setup.h"

#include "config/core_keys.h"
#include "storage/migrations.h"

#include <fmt/format.h>

#include <chrono>
#include <utility>

namespace eltrix::app {
namespace {

namespace keys = config::keys;

/// Everything goes to the primary: no replica routing for a command.
class PrimaryOnly final : public plugin::DbRouting {
 public:
  plugin::Health health() override { return {}; }
  std::size_t route(const plugin::RouteRequest&, std::span<const plugin::TargetState>) override {
    return 0;
  }
};

}  // namespace

CommandSetup::CommandSetup(std::string command)
    : command_(std::move(command)), registry_(metrics_) {}

CommandSetup::~CommandSetup() = default;

int CommandSetup::fail(const std::string& message, int code) const {
  fmt::print(stderr, "{}: {}\n", command_, message);
  return code;
}

int CommandSetup::load(const std::optional<std::string>& config_file,
                       const config::EnvLookup& env) {
  CliOptions cli;
  cli.config_file = config_file;
  loaded_ = load_configuration(cli, registry_, env);
  for (const auto& warning : loaded_->warnings)
    fmt::print(stderr, "{}: warning: {}\n", command_, warning);
  if (loaded_->problems.empty()) return 0;
  for (const auto& problem : loaded_->problems) {
    fmt::print(stderr, "{}: configuration error: {}\n", command_, problem.message);
  }
  return kExitConfig;
}

std::string CommandSetup::server_name() const {
  return config().get_string(keys::kServerName);
}

int CommandSetup::open_database(std::size_t pool_size) {
  const config::Config& cfg = config();
  storage::DatabaseOptions options;
  options.primary = {"primary", cfg.get_string(keys::kDatabaseUrl)};
  options.pool_size = pool_size;
  options.connect_timeout = std::chrono::seconds(cfg.get_int(keys::kDatabaseConnectTimeout, 5));
  options.acquire_timeout =
      std::chrono::milliseconds(cfg.get_int(keys::kDatabaseAcquireTimeout, 5000));
  options.statement_timeout =
      std::chrono::milliseconds(cfg.get_int(keys::kDatabaseStatementTimeout, 30000));
  routing_ = std::make_unique<PrimaryOnly>();
  try {
    db_ = std::make_unique<storage::Database>(options, *routing_, metrics_);
  } catch (const std::exception& e) {
    return fail(fmt::format("configuration error: {}: {}", keys::kDatabaseUrl, e.what()),
                kExitConfig);
  }
  const std::string name = server_name();
  try {
    // What a starting node does first, so the schema is the one this binary
    // expects (and a database newer than the binary is refused).
    storage::apply_migrations(*db_);
    storage::put_setting_if_absent(*db_, "server_name", name);
    if (auto pinned = storage::get_setting(*db_, "server_name"); pinned && *pinned != name) {
      return fail(fmt::format("configuration error: {} is '{}' but this database belongs to '{}'",
                              keys::kServerName, name, *pinned),
                  kExitConfig);
    }
  } catch (const std::exception& e) {
    return fail(fmt::format("database error: {}", e.what()));
  }
  return 0;
}

}  // namespace eltrix::app
