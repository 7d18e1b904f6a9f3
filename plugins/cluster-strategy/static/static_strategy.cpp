#include "static_strategy.h"

#include "peer_list.h"

#include <string>

namespace eltrix::cluster_static {

StaticStrategy::StaticStrategy(plugin::Host& host, const plugin::Config& config)
    : peers_(parse_peers(config.get_list("cluster.peers"))) {
  std::string listing;
  for (const auto& peer : peers_) {
    if (!listing.empty()) listing += ',';
    listing += peer.name;
  }
  host.info("static cluster peers", {{"count", std::to_string(peers_.size())}, {"peers", listing}});
}

plugin::Health StaticStrategy::health() {
  return {plugin::HealthStatus::ok, std::to_string(peers_.size()) + " configured peers"};
}

std::vector<plugin::Peer> StaticStrategy::discover() {
  return peers_;
}

void StaticStrategy::validate(const plugin::Config& config,
                              std::vector<plugin::ConfigProblem>& problems) {
  for (const auto& entry : config.get_list("cluster.peers")) {
    try {
      (void)parse_peer(entry);
    } catch (const plugin::Error& e) {
      problems.push_back({"cluster.peers", e.what()});
    }
  }
}

void StaticStrategy::watch(plugin::PeerListener* listener) {
  // The set never changes: deliver it once, now. Nothing runs later, so
  // stopping (nullptr) has nothing to stop.
  if (listener != nullptr) listener->peers_changed(peers_);
}

}  // namespace eltrix::cluster_static
