#include "cluster/peer_set.h"

namespace eltrix::cluster {

std::string endpoint_key(const Endpoint& endpoint) {
  if (endpoint.host.find(':') != std::string::npos) {
    return "[" + endpoint.host + "]:" + std::to_string(endpoint.port);
  }
  return endpoint.host + ":" + std::to_string(endpoint.port);
}

std::map<std::string, Endpoint> normalise_peers(const std::vector<plugin::Peer>& peers,
                                                std::uint16_t default_port) {
  std::map<std::string, Endpoint> out;
  for (const auto& peer : peers) {
    if (peer.address.empty()) continue;
    std::string host = peer.address;
    // Tolerate a bracketed IPv6 literal from a strategy.
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    Endpoint endpoint{host, peer.port != 0 ? peer.port : default_port};
    out.emplace(endpoint_key(endpoint), std::move(endpoint));
  }
  return out;
}

}  // namespace eltrix::cluster
