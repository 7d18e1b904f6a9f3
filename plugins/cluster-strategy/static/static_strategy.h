// cluster-strategy-static: a fixed peer list from the configuration.
#pragma once

#include <eltrix/plugin/cluster_strategy.h>
#include <eltrix/plugin/config.h>
#include <eltrix/plugin/host.h>

#include <vector>

namespace eltrix::cluster_static {

class StaticStrategy final : public plugin::ClusterStrategy {
 public:
  static constexpr const char* kDescription =
      "fixed list of peers from cluster.peers (the peer set never changes at run time)";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = 0;

  StaticStrategy(plugin::Host& host, const plugin::Config& config);

  /// For `eltrix --config=check`: every malformed cluster.peers entry.
  static void validate(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems);

  plugin::Health health() override;
  std::vector<plugin::Peer> discover() override;
  void watch(plugin::PeerListener* listener) override;

 private:
  const std::vector<plugin::Peer> peers_;  // immutable after construction: no lock needed
};

}  // namespace eltrix::cluster_static
