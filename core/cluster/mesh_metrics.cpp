#include "cluster/mesh_metrics.h"

#include "cluster/messages.h"

#include <string>

namespace eltrix::cluster {

namespace {
constexpr std::string_view kSentHelp = "Mesh messages written to a peer connection, by type.";
constexpr std::string_view kReceivedHelp = "Authenticated mesh messages received, by type.";
constexpr std::string_view kDroppedHelp =
    "Mesh messages not sent (they are hints; the database recheck covers them), by reason.";
constexpr std::string_view kAuthHelp =
    "Mesh connections closed because the peer failed the handshake or sent a frame that "
    "does not authenticate, by reason.";
}  // namespace

MeshMetrics::MeshMetrics(metrics::Registry& registry)
    : peers(registry.gauge("eltrix_cluster_peers",
                           "Peers the cluster strategy reports (this node excluded).")),
      connected(registry.gauge("eltrix_cluster_peers_connected",
                               "Peers this node has an authenticated connection to.")),
      inbound(registry.gauge("eltrix_cluster_inbound_connections",
                             "Authenticated connections from peers to this node.")),
      queued(registry.gauge("eltrix_cluster_queue_depth",
                            "Mesh messages waiting to be sent, all peers together.")),
      refused_connections(registry.counter(
          "eltrix_cluster_connections_refused_total",
          "Inbound mesh connections closed at once: too many handshakes (from one address or "
          "in all) or authenticated connections.")) {
  // Every series is registered up front: dashboards see zeros, not gaps, and
  // counting never takes the registry's lock.
  for (std::size_t type = 0; type < sent_.size(); ++type) {
    const std::string name(message_type_name(static_cast<std::uint8_t>(type)));
    sent_[type] =
        &registry.counter("eltrix_cluster_messages_sent_total", kSentHelp, {{"type", name}});
    received_[type] = &registry.counter("eltrix_cluster_messages_received_total", kReceivedHelp,
                                        {{"type", name}});
  }
  for (const char* reason : {"queue_full", "not_connected", "too_large"}) {
    dropped_[reason] = &registry.counter("eltrix_cluster_messages_dropped_total", kDroppedHelp,
                                         {{"reason", reason}});
  }
  for (const char* reason : {"bad_proof", "bad_frame", "malformed", "old_version", "timeout"}) {
    auth_failures_[reason] =
        &registry.counter("eltrix_cluster_auth_failures_total", kAuthHelp, {{"reason", reason}});
  }
}

void MeshMetrics::sent(std::uint8_t type) {
  sent_[type]->inc();
}

void MeshMetrics::received(std::uint8_t type) {
  received_[type]->inc();
}

void MeshMetrics::dropped(std::string_view reason) {
  if (auto it = dropped_.find(reason); it != dropped_.end()) it->second->inc();
}

void MeshMetrics::auth_failure(std::string_view reason) {
  if (auto it = auth_failures_.find(reason); it != auth_failures_.end()) it->second->inc();
}

}  // namespace eltrix::cluster
