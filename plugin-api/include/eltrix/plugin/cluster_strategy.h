// Cluster-strategy plugins: who the other nodes are.
//
// Implementations: cluster-strategy-static (alias epmd; a configured list),
// cluster-strategy-dns (A/AAAA records of a name), cluster-strategy-kubernetes
// (ready pods matching a label selector). The core owns the mesh itself; a
// strategy only finds peers.
#pragma once

#include <eltrix/plugin/component.h>

#include <cstdint>
#include <string>
#include <vector>

namespace eltrix::plugin {

/// Capability bits for Kind::cluster_strategy.
enum ClusterStrategyCapabilities : std::uint64_t {
  /// The peer set can change at run time; watch() delivers changes.
  kClusterDynamic = 1ULL << 0U,
};

struct Peer {
  std::string name;        ///< stable identity when known (pod name), else the address
  std::string address;     ///< IP address or host name
  std::uint16_t port = 0;  ///< 0: the core's configured cluster port
  friend bool operator==(const Peer&, const Peer&) = default;
};

class PeerListener {
 public:
  /// The complete current peer set (not a delta). May be called from a plugin
  /// thread; must not block for long.
  virtual void peers_changed(const std::vector<Peer>& peers) = 0;

 protected:
  ~PeerListener() = default;
};

class ClusterStrategy : public Component {
 public:
  /// The current peer set, possibly including this node (the core filters
  /// itself out). May block up to the plugin's timeout; throws Error(transient)
  /// when the source (DNS, API server) is unreachable.
  virtual std::vector<Peer> discover() = 0;

  /// Starts telling `listener` about every change of the peer set, beginning
  /// with the current set. Passing nullptr stops; once that call returns no
  /// further callbacks happen.
  virtual void watch(PeerListener* listener) = 0;
};

}  // namespace eltrix::plugin
