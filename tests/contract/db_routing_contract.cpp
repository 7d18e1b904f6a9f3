// The db-routing contract (eltrix/plugin/db_routing.h).
#include "contract/suites.h"

#include <atomic>
#include <thread>

namespace eltrix::contract {

namespace {

using plugin::Access;
using plugin::RouteRequest;
using plugin::TargetState;

TargetState primary(std::uint64_t position) {
  return {.name = "primary",
          .primary = true,
          .healthy = true,
          .replay_position = position,
          .lag = std::chrono::milliseconds(0)};
}
TargetState replica(std::string_view name, bool healthy, std::uint64_t position,
                    std::chrono::milliseconds lag) {
  return {
      .name = name, .primary = false, .healthy = healthy, .replay_position = position, .lag = lag};
}

}  // namespace

void run_db_routing_contract(const Factory<plugin::DbRouting>& make) {
  using namespace std::chrono_literals;

  SECTION("the descriptor describes a db router") {
    auto router = make({});
    CHECK(router.info().kind == plugin::Kind::db_routing);
    CHECK_FALSE(router.info().description.empty());
    CHECK(router->health().status == plugin::HealthStatus::ok);
  }

  SECTION("with only a primary, everything goes to it") {
    auto router = make({});
    const std::vector<TargetState> targets = {primary(1000)};
    CHECK(router->route({.access = Access::write, .min_position = 0}, targets) == 0);
    CHECK(router->route({.access = Access::read, .min_position = 0}, targets) == 0);
    CHECK(router->route({.access = Access::read, .min_position = 1000}, targets) == 0);
  }

  SECTION("writes always go to the primary") {
    auto router = make({});
    const std::vector<TargetState> targets = {primary(5000), replica("replica1", true, 5000, 0ms),
                                              replica("replica2", true, 5000, 0ms)};
    CHECK(router->route({.access = Access::write, .min_position = 0}, targets) == 0);
    CHECK(router->route({.access = Access::write, .min_position = 4000}, targets) == 0);
  }

  SECTION("reads go to a healthy server that has replayed the caller's last write") {
    auto router = make({});
    const std::vector<TargetState> targets = {primary(9000), replica("replica1", false, 9000, 0ms),
                                              replica("replica2", true, 7000, 2000ms),
                                              replica("replica3", true, 8500, 100ms)};
    for (std::uint64_t position : {0ULL, 6000ULL, 8000ULL, 8500ULL, 8600ULL, 9000ULL}) {
      INFO("min_position " << position);
      auto chosen = router->route({.access = Access::read, .min_position = position}, targets);
      REQUIRE(chosen < targets.size());
      CHECK(targets[chosen].healthy);
      if (chosen != 0) CHECK(targets[chosen].replay_position >= position);
    }
    // Nobody but the primary has replayed this far.
    CHECK(router->route({.access = Access::read, .min_position = 8600}, targets) == 0);
  }

  SECTION("route may be called from many threads") {
    auto router = make({});
    if (!router.info().thread_safe()) return;
    const std::vector<TargetState> targets = {primary(100), replica("replica1", true, 100, 0ms)};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) {
          if (router->route({.access = Access::write, .min_position = 0}, targets) != 0) ++wrong;
          if (router->route({.access = Access::read, .min_position = 100}, targets) >= 2) ++wrong;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(wrong.load() == 0);
  }
}

}  // namespace eltrix::contract
