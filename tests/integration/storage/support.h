// Shared helpers for the storage integration tests.
#pragma once

#include "metrics/registry.h"
#include "storage/database.h"

#include <atomic>
#include <string>

namespace eltrix::test {

/// ELTRIX_TEST_DATABASE_URL (main() skips the whole run when it is unset).
std::string database_url();

/// A DbRouting that sends reads to a fixed index and records what it was asked.
class FixedRouting final : public plugin::DbRouting {
 public:
  explicit FixedRouting(std::size_t index = 0) : index(index) {}
  std::size_t route(const plugin::RouteRequest& request,
                    std::span<const plugin::TargetState> targets) override;
  plugin::Health health() override { return {}; }

  std::atomic<std::size_t> index;
  std::atomic<int> calls{0};
  std::atomic<std::uint64_t> last_min_position{0};
  std::atomic<std::size_t> last_target_count{0};
};

/// A freshly created database with a random name, dropped (WITH FORCE) on
/// destruction. `url` is a keyword/value connection string for it.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  std::string name;
  std::string url;
};

storage::DatabaseOptions options_for(const std::string& url, std::size_t pool_size = 4);

/// Runs one statement on a direct (non-pooled) connection, outside our
/// Database class; used to act on the server "from another client".
pqxx::result admin_exec(const std::string& url, const std::string& sql);

/// Value of a series in the Prometheus text, e.g.
/// metric_value(r, "eltrix_db_pool_size{target=\"primary\"}"); -1 if absent.
double metric_value(const std::string& rendered, const std::string& series);

}  // namespace eltrix::test
