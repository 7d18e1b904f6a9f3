// The keys of the cluster mesh and the sync recheck (core/cluster,
// notify/stream_recheck.h), beyond cluster.enabled/strategy/port which
// core_keys.h declares with the plugin selection.
#pragma once

#include "config/schema.h"

namespace eltrix::config {

/// Adds the cluster keys to `schema` (called by add_core_keys).
void add_cluster_keys(Schema& schema);

namespace keys {
inline constexpr const char* kClusterBindAddress = "cluster.bind_address";
inline constexpr const char* kClusterSecret = "cluster.secret";
inline constexpr const char* kClusterQueueSize = "cluster.queue_size";
inline constexpr const char* kClusterHeartbeatInterval = "cluster.heartbeat_interval";
inline constexpr const char* kClusterNodeTimeout = "cluster.node_timeout";
inline constexpr const char* kSyncRecheckInterval = "sync.recheck_interval";
inline constexpr const char* kClusterHandshakeTimeout = "cluster.handshake_timeout";
inline constexpr const char* kClusterMaxHandshakesPerAddress = "cluster.max_handshakes_per_address";
}  // namespace keys

}  // namespace eltrix::config
