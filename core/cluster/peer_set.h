// The peer set a strategy reports, normalised (default port filled in,
// duplicates merged) and compared with the links the mesh holds, so that
// only the difference is dialled or hung up.
#pragma once

#include <eltrix/plugin/cluster_strategy.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace eltrix::cluster {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// "host:port" ("[v6]:port" for IPv6 addresses): the identity of a link.
std::string endpoint_key(const Endpoint& endpoint);

/// The strategy's peers keyed by endpoint_key; a port of 0 becomes
/// `default_port`; entries with an empty address are ignored.
std::map<std::string, Endpoint> normalise_peers(const std::vector<plugin::Peer>& peers,
                                                std::uint16_t default_port);

struct PeerDiff {
  std::vector<Endpoint> added;
  std::vector<std::string> removed;  ///< keys
};

/// What changes from `current` (keys of existing links) to `wanted`.
template <typename Current>
PeerDiff diff_peers(const Current& current, const std::map<std::string, Endpoint>& wanted) {
  PeerDiff diff;
  for (const auto& [key, endpoint] : wanted) {
    if (current.find(key) == current.end()) diff.added.push_back(endpoint);
  }
  for (const auto& entry : current) {
    if (wanted.find(entry.first) == wanted.end()) diff.removed.push_back(entry.first);
  }
  return diff;
}

}  // namespace eltrix::cluster
