// The mesh's metrics, registered once (eltrix_cluster_*).
#pragma once

#include "metrics/registry.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace eltrix::cluster {

class MeshMetrics {
 public:
  explicit MeshMetrics(metrics::Registry& registry);

  void sent(std::uint8_t type);
  void received(std::uint8_t type);
  /// reason: queue_full, not_connected, too_large
  void dropped(std::string_view reason);
  /// reason: bad_proof (the peer does not hold the cluster key), bad_frame
  /// (after the handshake, a frame that does not decrypt or a bad length:
  /// tampered or replayed), malformed (a handshake frame too long, of the
  /// wrong type or unparsable), old_version (a plaintext protocol v1 peer),
  /// timeout (the handshake did not finish in time)
  void auth_failure(std::string_view reason);

  metrics::Gauge& peers;
  metrics::Gauge& connected;
  metrics::Gauge& inbound;
  metrics::Gauge& queued;
  metrics::Counter& refused_connections;

 private:
  /// Per frame type (index); unknown types share the "unknown" series.
  std::array<metrics::Counter*, 256> sent_{};
  std::array<metrics::Counter*, 256> received_{};
  std::map<std::string, metrics::Counter*, std::less<>> dropped_;
  std::map<std::string, metrics::Counter*, std::less<>> auth_failures_;
};

}  // namespace eltrix::cluster
