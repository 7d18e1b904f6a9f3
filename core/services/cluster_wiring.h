// How the cluster mesh is built from the configuration and connected to the
// node's services: every local notify() is published to peers, and each
// message type received is applied locally (without being published again).
#pragma once

#include "cluster/mesh.h"

#include <memory>

namespace eltrix::config {
class Config;
}
namespace eltrix::metrics {
class Registry;
}
namespace eltrix::notify {
class Notifier;
}
namespace eltrix::storage {
class Database;
}
namespace eltrix::cluster {
class NodeRegistry;
}
namespace eltrix::plugins {
class GuardedCache;
}

namespace eltrix::services {

class TypingStateImpl;

/// The mesh of this node: cluster key from cluster.secret (else
/// server.secret_key), listening on cluster.bind_address (else a loopback or
/// private address, cluster/bind_address.h) and cluster.port, a fresh node id.
std::unique_ptr<cluster::Mesh> make_mesh(const config::Config& config, metrics::Registry& metrics);

/// This node's heartbeat (cluster.heartbeat_interval, cluster.node_timeout)
/// under `node_id`, the mesh's.
std::unique_ptr<cluster::NodeRegistry> make_node_registry(const config::Config& config,
                                                          storage::Database& db,
                                                          const std::string& node_id,
                                                          metrics::Registry& metrics);

/// Both ways between the node's services and `mesh`: wake-ups of `notifier`,
/// typing changes of `typing`, and, unless the cache is shared by all nodes
/// (plugin::kCacheShared), the invalidations of `cache`.
void wire_mesh(cluster::Mesh& mesh, notify::Notifier& notifier, TypingStateImpl& typing,
               plugins::GuardedCache& cache, bool cache_shared);

}  // namespace eltrix::services
