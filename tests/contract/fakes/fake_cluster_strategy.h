// A ClusterStrategy fake: reads cluster.peers with a deliberately small
// parser (host[:port] or [ipv6][:port], no validation) and never changes.
#pragma once

#include <eltrix/plugin/plugin.h>

#include <charconv>

namespace eltrix::contract {

class FakeClusterStrategy final : public plugin::ClusterStrategy {
 public:
  static constexpr const char* kDescription = "fixed peer list for contract tests";
  static constexpr bool kThreadSafe = true;

  FakeClusterStrategy(plugin::Host& /*host*/, const plugin::Config& config) {
    for (const auto& entry : config.get_list("cluster.peers")) peers_.push_back(parse(entry));
  }

  plugin::Health health() override { return {}; }
  std::vector<plugin::Peer> discover() override { return peers_; }
  void watch(plugin::PeerListener* listener) override {
    if (listener != nullptr) listener->peers_changed(peers_);
  }

 private:
  static plugin::Peer parse(std::string_view entry) {
    plugin::Peer peer{.name = std::string(entry), .address = {}, .port = 0};
    std::string_view host = entry;
    std::string_view port;
    if (entry.front() == '[') {
      auto close = entry.find(']');
      host = entry.substr(1, close - 1);
      if (close + 1 < entry.size()) port = entry.substr(close + 2);
    } else if (auto colon = entry.find(':'); colon != std::string_view::npos) {
      host = entry.substr(0, colon);
      port = entry.substr(colon + 1);
    }
    peer.address = std::string(host);
    if (!port.empty()) std::from_chars(port.data(), port.data() + port.size(), peer.port);
    return peer;
  }

  std::vector<plugin::Peer> peers_;
};

inline constexpr plugin::Descriptor kFakeClusterStrategyDescriptor =
    plugin::detail::make_descriptor<plugin::Kind::cluster_strategy, FakeClusterStrategy>("fake",
                                                                                         "1.0", {});

}  // namespace eltrix::contract
