// The cluster-strategy contract (eltrix/plugin/cluster_strategy.h).
#include "contract/suites.h"

#include <chrono>
#include <mutex>
#include <thread>

namespace eltrix::contract {

namespace {

class RecordingListener final : public plugin::PeerListener {
 public:
  void peers_changed(const std::vector<plugin::Peer>& peers) override {
    std::lock_guard lock(mutex_);
    calls_.push_back(peers);
    caller_ = std::this_thread::get_id();
  }
  std::vector<std::vector<plugin::Peer>> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::thread::id caller() const {
    std::lock_guard lock(mutex_);
    return caller_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::vector<plugin::Peer>> calls_;
  std::thread::id caller_;
};

void check_peers(const std::vector<plugin::Peer>& found,
                 const std::vector<plugin::Peer>& expected) {
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    INFO("peer " << i << ": " << found[i].name);
    CHECK(found[i].address == expected[i].address);
    CHECK(found[i].port == expected[i].port);
    CHECK_FALSE(found[i].name.empty());
  }
}

plugin::Peer peer(std::string address, std::uint16_t port) {
  return plugin::Peer{.name = {}, .address = std::move(address), .port = port};
}

}  // namespace

std::vector<ClusterScenario> static_peer_scenarios() {
  return {
      {{}, {}},
      {{{"cluster.peers", ""}}, {}},
      {{{"cluster.peers", "node1.example.org:4369"}}, {peer("node1.example.org", 4369)}},
      {{{"cluster.peers", "node1.example.org:4369, 10.0.0.7 ,[fd00::2]:4370,[fd00::3], node-4"}},
       {peer("node1.example.org", 4369), peer("10.0.0.7", 0), peer("fd00::2", 4370),
        peer("fd00::3", 0), peer("node-4", 0)}},
  };
}

void run_cluster_strategy_contract(const Factory<plugin::ClusterStrategy>& make,
                                   const std::vector<ClusterScenario>& scenarios) {
  SECTION("the descriptor describes a cluster strategy") {
    auto strategy = make(scenarios.front().config);
    CHECK(strategy.info().kind == plugin::Kind::cluster_strategy);
    CHECK_FALSE(strategy.info().description.empty());
    CHECK(strategy->health().status == plugin::HealthStatus::ok);
  }

  SECTION("discover finds the configured peers, every time") {
    for (const auto& scenario : scenarios) {
      auto strategy = make(scenario.config);
      INFO("cluster.peers = " << (scenario.config.count("cluster.peers") != 0
                                      ? scenario.config.at("cluster.peers")
                                      : std::string("(unset)")));
      check_peers(strategy->discover(), scenario.expected);
      check_peers(strategy->discover(), scenario.expected);
    }
  }

  SECTION("watch delivers the current set, and stops on nullptr") {
    const auto& scenario = scenarios.back();
    auto strategy = make(scenario.config);
    const bool dynamic = (strategy.info().capabilities & plugin::kClusterDynamic) != 0;
    RecordingListener listener;
    strategy->watch(&listener);
    if (!dynamic) {
      // A fixed set is delivered exactly once, before watch returns.
      REQUIRE(listener.calls().size() == 1);
      CHECK(listener.caller() == std::this_thread::get_id());
    } else {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (listener.calls().empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      REQUIRE_FALSE(listener.calls().empty());
    }
    check_peers(listener.calls().front(), scenario.expected);

    strategy->watch(nullptr);
    auto after_stop = listener.calls().size();
    strategy->watch(nullptr);  // stopping twice is harmless
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(listener.calls().size() == after_stop);
  }
}

}  // namespace eltrix::contract
