// White-box tests of db-routing-replicas: the eligibility rules (table-driven)
// and the routing object's rotation, fallback, metrics and log lines.
#include "contract/harness.h"
#include "contract/impl/test_host.h"

#include "../../../plugins/db-routing/replicas/replica_choice.h"
#include "../../../plugins/db-routing/replicas/replicas_routing.h"

#include <algorithm>
#include <map>
#include <vector>

namespace eltrix::contract {
namespace {

using db_replicas::judge;
using db_replicas::ReplicasRouting;
using db_replicas::Verdict;
using plugin::Access;
using plugin::TargetState;
using namespace std::chrono_literals;

TargetState primary(std::uint64_t position) {
  return {.name = "primary", .primary = true, .healthy = true, .replay_position = position};
}
TargetState replica(std::string_view name, bool healthy, std::uint64_t position,
                    std::chrono::milliseconds lag) {
  return {.name = name, .healthy = healthy, .replay_position = position, .lag = lag};
}

long count_lines(const TestHost& host, std::string_view text) {
  const auto lines = host.log_lines();
  return std::count_if(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find(text) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("db-routing-replicas judges a replica by health, lag, then position",
          "[plugin][db-routing-replicas]") {
  struct Case {
    bool healthy;
    std::uint64_t position;
    std::chrono::milliseconds lag;
    std::uint64_t min_position;
    Verdict expected;
  };
  const auto max_lag = 5000ms;
  for (const Case& c : {
           Case{true, 100, 0ms, 0, Verdict::usable},
           Case{true, 100, 0ms, 100, Verdict::usable},  // replayed exactly the write
           Case{true, 100, 0ms, 101, Verdict::behind},
           Case{true, 0, 0ms, 0, Verdict::usable},        // nothing needed, nothing replayed yet
           Case{true, 100, 5000ms, 50, Verdict::usable},  // at the limit
           Case{true, 100, 5001ms, 50, Verdict::lagging},
           Case{true, 100, 5001ms, 500, Verdict::lagging},  // its own state comes first
           Case{false, 100, 0ms, 0, Verdict::down},
           Case{false, 100, 9000ms, 500, Verdict::down},
       }) {
    INFO("healthy " << c.healthy << " position " << c.position << " lag " << c.lag.count()
                    << " min_position " << c.min_position);
    CHECK(judge(replica("r", c.healthy, c.position, c.lag), c.min_position, max_lag) == c.expected);
  }
}

TEST_CASE("db-routing-replicas routes reads to eligible replicas and the rest to the primary",
          "[plugin][db-routing-replicas]") {
  TestHost host;
  config::StaticConfig config({{"database.replica_max_lag_ms", "1000"}});
  ReplicasRouting router(host, config);
  CHECK(router.max_lag() == 1000ms);

  struct Case {
    const char* what;
    std::vector<TargetState> targets;
    std::uint64_t min_position;
    std::vector<std::size_t> allowed;  ///< any of these is right
  };
  const std::vector<Case> cases = {
      {"no replica", {primary(10)}, 0, {0}},
      {"one caught-up replica", {primary(10), replica("replica1", true, 10, 0ms)}, 10, {1}},
      {"replica down", {primary(10), replica("replica1", false, 10, 0ms)}, 0, {0}},
      {"replica too far behind", {primary(10), replica("replica1", true, 10, 1001ms)}, 0, {0}},
      {"replica has not replayed the reader's write",
       {primary(10), replica("replica1", true, 9, 0ms)},
       10,
       {0}},
      {"the only replica that has replayed it",
       {primary(10), replica("replica1", true, 8, 0ms), replica("replica2", true, 10, 50ms)},
       9,
       {2}},
      {"either replica",
       {primary(10), replica("replica1", true, 10, 0ms), replica("replica2", true, 10, 900ms)},
       5,
       {1, 2}},
      {"down, lagging and behind: the primary",
       {primary(10), replica("replica1", false, 10, 0ms), replica("replica2", true, 10, 2000ms),
        replica("replica3", true, 3, 0ms)},
       4,
       {0}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    for (int round = 0; round < 4; ++round) {
      const std::size_t chosen =
          router.route({.access = Access::read, .min_position = c.min_position}, c.targets);
      CHECK(std::find(c.allowed.begin(), c.allowed.end(), chosen) != c.allowed.end());
      CHECK(router.route({.access = Access::write, .min_position = 0}, c.targets) == 0);
    }
  }
}

TEST_CASE("db-routing-replicas rotates reads over the eligible replicas",
          "[plugin][db-routing-replicas]") {
  TestHost host;
  config::StaticConfig config;
  ReplicasRouting router(host, config);
  CHECK(router.max_lag() == 5000ms);
  const std::vector<TargetState> targets = {primary(50), replica("replica1", true, 50, 0ms),
                                            replica("replica2", true, 50, 10ms),
                                            replica("replica3", false, 50, 0ms)};
  std::map<std::size_t, int> hits;
  for (int i = 0; i < 300; ++i) ++hits[router.route({.access = Access::read}, targets)];
  CHECK(hits.size() == 2);
  CHECK(hits[1] == 150);
  CHECK(hits[2] == 150);
  CHECK(host.value("eltrix_db_replica_skipped_total", R"({target="replica3",reason="down"})") ==
        300);
}

TEST_CASE("db-routing-replicas logs a replica leaving and rejoining the rotation once",
          "[plugin][db-routing-replicas]") {
  TestHost host;
  config::StaticConfig config({{"database.replica_max_lag_ms", "1000"}});
  ReplicasRouting router(host, config);
  auto route = [&](const TargetState& r1, std::uint64_t min_position = 0) {
    const std::vector<TargetState> targets = {primary(100), r1};
    return router.route({.access = Access::read, .min_position = min_position}, targets);
  };

  for (int i = 0; i < 10; ++i) CHECK(route(replica("replica1", true, 100, 0ms)) == 1);
  CHECK(count_lines(host, "out of rotation") == 0);

  for (int i = 0; i < 10; ++i) CHECK(route(replica("replica1", false, 100, 0ms)) == 0);
  CHECK(count_lines(host, "out of rotation") == 1);
  CHECK(count_lines(host, "reason=down") == 1);
  CHECK(host.value("eltrix_db_replica_skipped_total", R"({target="replica1",reason="down"})") ==
        10);

  for (int i = 0; i < 5; ++i) CHECK(route(replica("replica1", true, 100, 3000ms)) == 0);
  CHECK(count_lines(host, "reason=lagging") == 1);
  CHECK(host.value("eltrix_db_replica_skipped_total", R"({target="replica1",reason="lagging"})") ==
        5);

  for (int i = 0; i < 10; ++i) CHECK(route(replica("replica1", true, 100, 0ms)) == 1);
  CHECK(count_lines(host, "back in rotation") == 1);

  // Not having replayed one reader's write is no state change: counted, not logged.
  for (int i = 0; i < 3; ++i) CHECK(route(replica("replica1", true, 100, 0ms), 101) == 0);
  CHECK(host.value("eltrix_db_replica_skipped_total", R"({target="replica1",reason="behind"})") ==
        3);
  CHECK(count_lines(host, "out of rotation") == 2);
  CHECK(router.health().status == plugin::HealthStatus::ok);
}

TEST_CASE("db-routing-replicas refuses a negative maximum lag, naming the key",
          "[plugin][db-routing-replicas]") {
  TestHost host;
  config::StaticConfig config({{"database.replica_max_lag_ms", "-1"}});
  try {
    ReplicasRouting router(host, config);
    FAIL("accepted");
  } catch (const plugin::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("database.replica_max_lag_ms"));
    CHECK_THAT(e.what(), Catch::Contains("-1"));
  }
}

}  // namespace eltrix::contract
