#include "app/cluster_wiring.h"

#include "cluster/handshake.h"
#include "cluster/messages.h"
#include "config/cluster_keys.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "notify/notifier.h"

namespace eltrix::app {

namespace keys = config::keys;

std::unique_ptr<cluster::Mesh> make_mesh(const config::Config& config, metrics::Registry& metrics) {
  cluster::MeshOptions options;
  std::string secret = config.get_string(keys::kClusterSecret, "");
  if (secret.empty()) secret = config.get_string(keys::kSecretKey);
  options.key = cluster::derive_cluster_key(secret);
  options.node_id = cluster::random_node_id();
  std::string bind = config.get_string(keys::kClusterBindAddress, "");
  if (bind.empty()) bind = config.get_string(keys::kHttpBindAddress, "0.0.0.0");
  options.listener.bind_address = bind;
  const auto port = static_cast<std::uint16_t>(config.get_int(keys::kClusterPort, 8009));
  options.listener.port = port;
  options.default_peer_port = port;
  options.link.queue_limit =
      static_cast<std::size_t>(config.get_int(keys::kClusterQueueSize, 10000));
  return std::make_unique<cluster::Mesh>(std::move(options), metrics);
}

void wire_mesh(cluster::Mesh& mesh, notify::Notifier& notifier) {
  notifier.set_publisher([&mesh](const std::vector<std::string>& keys) {
    mesh.publish(cluster::MessageType::wake, cluster::encode_wake(keys));
  });
  mesh.on(cluster::MessageType::wake, [&notifier](std::string_view payload) {
    if (auto keys = cluster::decode_wake(payload)) notifier.wake_local(*keys);
  });
}

}  // namespace eltrix::app
