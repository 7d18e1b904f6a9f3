// eltrix-migrate-helper URL [--start-at EPOCH_MS] [--slow]
//
// Applies the embedded migrations to URL and exits 0, or prints the error and
// exits 1. Used by integration-storage to run migrations from two processes at
// the same instant: --start-at sleeps until that wall-clock time first, and
// --slow adds a test migration that takes a while (widening the window in
// which a second process would collide without the advisory lock).
#include "metrics/registry.h"
#include "storage/database.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

namespace {

class PrimaryOnly final : public eltrix::plugin::DbRouting {
 public:
  std::size_t route(const eltrix::plugin::RouteRequest&,
                    std::span<const eltrix::plugin::TargetState>) override {
    return 0;
  }
  eltrix::plugin::Health health() override { return {}; }
};

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [--start-at EPOCH_MS] [--slow]\n", argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  bool slow = false;
  long long start_at_ms = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--slow") {
      slow = true;
    } else if (arg == "--start-at" && i + 1 < argc) {
      start_at_ms = std::atoll(argv[++i]);
    } else {
      std::fprintf(stderr, "%s: unknown argument %s\n", argv[0], arg.c_str());
      return 2;
    }
  }
  try {
    eltrix::metrics::Registry registry;
    PrimaryOnly routing;
    eltrix::storage::DatabaseOptions options;
    options.primary = {"primary", url};
    options.pool_size = 1;
    eltrix::storage::Database db(options, routing, registry);

    std::vector<eltrix::storage::Migration> migrations = eltrix::storage::embedded_migrations();
    if (slow) {
      migrations.push_back({9000, "test_slow",
                            "SELECT pg_sleep(0.5);\n"
                            "CREATE TABLE test_slow_marker (id int PRIMARY KEY);\n"
                            "INSERT INTO test_slow_marker VALUES (1);\n"});
    }
    if (start_at_ms > 0) {
      std::this_thread::sleep_until(
          std::chrono::system_clock::time_point(std::chrono::milliseconds(start_at_ms)));
    }
    eltrix::storage::apply_migrations(db, migrations);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eltrix-migrate-helper: %s\n", e.what());
    return 1;
  }
}
