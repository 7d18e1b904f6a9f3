#include "services/cluster_wiring.h"

#include "cluster/bind_address.h"
#include "cluster/handshake.h"
#include "cluster/messages.h"
#include "cluster/node_registry.h"
#include "config/cluster_keys.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "log/log.h"
#include "notify/notifier.h"
#include "plugins/guarded_cache.h"
#include "services/typing_state.h"

namespace eltrix::services {

namespace keys = config::keys;

namespace {

const log::Logger& logger() {
  static const log::Logger instance("cluster");
  return instance;
}

/// cluster.bind_address, or a loopback/private default (bind_address.h).
cluster::BindChoice mesh_bind(const config::Config& config) {
  return cluster::choose_bind_address(config.get_string(keys::kClusterBindAddress, ""),
                                      config.get_string(keys::kHttpBindAddress, ""),
                                      cluster::interface_addresses());
}

}  // namespace

std::unique_ptr<cluster::Mesh> make_mesh(const config::Config& config, metrics::Registry& metrics) {
  cluster::MeshOptions options;
  std::string secret = config.get_string(keys::kClusterSecret, "");
  if (secret.empty()) secret = config.get_string(keys::kSecretKey);
  options.key = cluster::derive_cluster_key(secret);
  options.node_id = cluster::random_node_id();
  const cluster::BindChoice bind = mesh_bind(config);
  if (bind.warn) {
    logger().warn("cluster mesh listens on every interface",
                  {{"address", bind.address}, {"reason", bind.reason}});
  } else {
    logger().info("cluster mesh address chosen",
                  {{"address", bind.address}, {"reason", bind.reason}});
  }
  options.listener.bind_address = bind.address;
  options.listener.handshake_timeout =
      std::chrono::milliseconds(config.get_int(keys::kClusterHandshakeTimeout, 2000));
  options.listener.max_handshakes_per_address =
      static_cast<std::size_t>(config.get_int(keys::kClusterMaxHandshakesPerAddress, 8));
  const auto port = static_cast<std::uint16_t>(config.get_int(keys::kClusterPort, 8009));
  options.listener.port = port;
  options.default_peer_port = port;
  options.link.queue_limit =
      static_cast<std::size_t>(config.get_int(keys::kClusterQueueSize, 10000));
  return std::make_unique<cluster::Mesh>(std::move(options), metrics);
}

std::unique_ptr<cluster::NodeRegistry> make_node_registry(const config::Config& config,
                                                          storage::Database& db,
                                                          const std::string& node_id,
                                                          metrics::Registry& metrics) {
  cluster::NodeRegistryOptions options;
  options.node_id = node_id;
  options.address =
      mesh_bind(config).address + ":" + std::to_string(config.get_int(keys::kClusterPort, 8009));
  options.heartbeat_interval =
      std::chrono::seconds(config.get_int(keys::kClusterHeartbeatInterval, 5));
  options.node_timeout = std::chrono::seconds(config.get_int(keys::kClusterNodeTimeout, 15));
  return std::make_unique<cluster::NodeRegistry>(db, std::move(options), metrics);
}

void wire_mesh(cluster::Mesh& mesh, notify::Notifier& notifier, TypingStateImpl& typing,
               plugins::GuardedCache& cache, bool cache_shared) {
  notifier.set_publisher([&mesh](const std::vector<std::string>& keys) {
    mesh.publish(cluster::MessageType::wake, cluster::encode_wake(keys));
  });
  mesh.on(cluster::MessageType::wake, [&notifier](std::string_view payload) {
    if (auto keys = cluster::decode_wake(payload)) notifier.wake_local(*keys);
  });

  // Typing lives in each node's memory: the change itself travels, and each
  // node wakes its own syncs when applying it.
  typing.set_publisher([&mesh](const std::string& room_id, const std::string& user_id,
                               bool is_typing, std::chrono::milliseconds timeout) {
    mesh.publish(cluster::MessageType::typing,
                 cluster::encode_typing({room_id, user_id, is_typing, timeout}));
  });
  mesh.on(cluster::MessageType::typing, [&typing](std::string_view payload) {
    if (auto change = cluster::decode_typing(payload)) {
      typing.apply_peer(change->room_id, change->user_id, change->typing, change->timeout);
    }
  });

  // A shared cache (Redis) is invalidated once for everyone; a per-node one
  // needs every node told.
  if (cache_shared) return;
  cache.set_invalidation_publisher([&mesh](const plugins::Invalidation& invalidation) {
    mesh.publish(
        cluster::MessageType::cache_invalidation,
        cluster::encode_invalidation({invalidation.key, invalidation.tombstone, invalidation.ttl}));
  });
  mesh.on(cluster::MessageType::cache_invalidation, [&cache](std::string_view payload) {
    if (auto invalidation = cluster::decode_invalidation(payload)) {
      cache.apply_peer_invalidation(
          {invalidation->key, invalidation->tombstone, invalidation->ttl});
    }
  });
}

}  // namespace eltrix::services
