// The cluster mesh of one node (DESIGN.md §2, "cluster/"): a listener for
// peers' connections, one PeerLink per peer the strategy reports, and the
// dispatch of received messages to their handlers.
//
//   Mesh mesh(options, metrics);
//   mesh.on(MessageType::wake, [&](std::string_view payload) {...});
//   mesh.start(strategy);            // listens, then watches the strategy
//   mesh.publish(MessageType::wake, encode_wake(keys));   // any thread
//   mesh.stop();                     // before the handlers' targets go away
//
// Peers come and go at run time (PeerListener): new ones are dialled, gone
// ones hung up. This node is filtered out by the handshake's node ids, since
// a strategy may list this node's own address.
#pragma once

#include "cluster/cluster_key.h"
#include "cluster/listener.h"
#include "cluster/mesh_metrics.h"
#include "cluster/messages.h"
#include "cluster/peer_link.h"
#include "plugins/registry.h"

#include <eltrix/plugin/cluster_strategy.h>
#include <eltrix/plugin/component.h>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace eltrix::cluster {

struct MeshOptions {
  Key key{};
  std::string node_id;  ///< random per start (random_node_id())
  ListenerOptions listener;
  LinkOptions link;
  /// Port of peers the strategy reports without one.
  std::uint16_t default_peer_port = 8009;
};

class Mesh final : public plugin::PeerListener {
 public:
  using Handler = std::function<void(std::string_view payload)>;

  Mesh(MeshOptions options, metrics::Registry& metrics);
  /// stop().
  ~Mesh();
  Mesh(const Mesh&) = delete;
  Mesh& operator=(const Mesh&) = delete;
  Mesh(Mesh&&) = delete;
  Mesh& operator=(Mesh&&) = delete;

  /// Registers the handler of one message type; call before start().
  void on(MessageType type, Handler handler);
  /// Listens (throws when the address cannot be bound) and starts watching
  /// `strategy`, which must outlive stop().
  void start(const plugins::Instance<plugin::ClusterStrategy>& strategy);
  /// Stops watching, hangs up every link and the listener; joins all threads.
  /// publish() does nothing afterwards. Idempotent.
  void stop();

  /// Sends to every connected peer; never blocks on the network.
  void publish(MessageType type, std::string payload);

  /// PeerListener: the strategy's complete current peer set.
  void peers_changed(const std::vector<plugin::Peer>& peers) override;

  /// "N peers seen, M connected"; always ok: the node serves without the
  /// mesh, only with slower cross-node wake-ups (see mesh.cpp).
  plugin::Health health() const;
  [[nodiscard]] const std::string& node_id() const { return options_.node_id; }
  [[nodiscard]] std::uint16_t port() const;
  struct Counts {
    std::size_t seen = 0;       ///< peers reported, this node excluded
    std::size_t connected = 0;  ///< of which connected
  };
  [[nodiscard]] Counts counts() const;

 private:
  void deliver(std::uint8_t type, std::string_view payload);
  /// Recounts the peer gauges (called by links when their state changes).
  void recount();

  const MeshOptions options_;
  MeshMetrics metrics_;
  std::array<Handler, 256> handlers_;
  std::unique_ptr<Listener> listener_;
  const plugins::Instance<plugin::ClusterStrategy>* strategy_ = nullptr;

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<PeerLink>> links_;
  bool stopped_ = false;
};

}  // namespace eltrix::cluster
