#include "config/cluster_keys.h"

#include "config/core_keys.h"

namespace eltrix::config {

namespace {
using plugin::ConfigKeySpec;
using plugin::ConfigType;
using plugin::kConfigSecret;
}  // namespace

void add_cluster_keys(Schema& schema) {
  schema.add({.name = keys::kClusterBindAddress,
              .default_value = "",
              .help = "Address the cluster mesh listens on (port cluster.port). Empty: "
                      "http.bind_address if that is a loopback or private address, else the "
                      "node's first private address, else 127.0.0.1; never every interface "
                      "unless set to 0.0.0.0 or :: here (logged as a warning).",
              .env = "ELTRIX_CLUSTER_BIND_ADDRESS"},
             "core", [](std::string_view v) -> std::optional<std::string> {
               if (v.empty()) return std::nullopt;
               return check_ip_address(v);
             });
  schema.add({.name = keys::kClusterSecret,
              .default_value = "",
              .help = "Secret that authenticates cluster traffic, the same on every node. Empty: "
                      "derived from server.secret_key. Set it to rotate one without the other.",
              .flags = kConfigSecret,
              .env = "ELTRIX_CLUSTER_SECRET"},
             "core", [](std::string_view v) -> std::optional<std::string> {
               if (v.empty() || v.size() >= 32) return std::nullopt;
               return "expected empty or at least 32 characters (try: openssl rand -hex 32)";
             });
  schema.add({.name = keys::kClusterQueueSize,
              .type = ConfigType::integer,
              .default_value = "10000",
              .help = "Mesh messages queued per peer before new ones are dropped (and counted "
                      "in eltrix_cluster_messages_dropped_total).",
              .env = "ELTRIX_CLUSTER_QUEUE_SIZE",
              .min_value = 1,
              .max_value = 1000000},
             "core");
  schema.add({.name = keys::kClusterHeartbeatInterval,
              .type = ConfigType::integer,
              .default_value = "5",
              .help = "Seconds between a node's heartbeats in the database (cluster_nodes).",
              .env = "ELTRIX_CLUSTER_HEARTBEAT_INTERVAL",
              .min_value = 1,
              .max_value = 3600},
             "core");
  schema.add({.name = keys::kClusterNodeTimeout,
              .type = ConfigType::integer,
              .default_value = "15",
              .help = "Seconds without a heartbeat after which a node counts as dead; its users "
                      "then go offline (see docs/operator-guide.md for the exact bound).",
              .env = "ELTRIX_CLUSTER_NODE_TIMEOUT",
              .min_value = 2,
              .max_value = 86400},
             "core");
  schema.add({.name = keys::kClusterHandshakeTimeout,
              .type = ConfigType::integer,
              .default_value = "2000",
              .help = "Milliseconds an inbound mesh connection has to complete its handshake "
                      "(a round trip and two MACs between real peers) before it is closed.",
              .env = "ELTRIX_CLUSTER_HANDSHAKE_TIMEOUT",
              .min_value = 100,
              .max_value = 60000},
             "core");
  schema.add({.name = keys::kClusterMaxHandshakesPerAddress,
              .type = ConfigType::integer,
              .default_value = "8",
              .help = "Inbound mesh connections one source address may have in their handshake "
                      "at once; more are refused (eltrix_cluster_connections_refused_total). "
                      "Raise it when many nodes reach this one through one NAT address.",
              .env = "ELTRIX_CLUSTER_MAX_HANDSHAKES_PER_ADDRESS",
              .min_value = 1,
              .max_value = 256},
             "core");
  schema.add({.name = keys::kSyncRecheckInterval,
              .type = ConfigType::integer,
              .default_value = "5000",
              .help = "Milliseconds between the database rechecks of waiting /sync requests: the "
                      "longest a lost cluster wake-up can delay delivery.",
              .env = "ELTRIX_SYNC_RECHECK_INTERVAL",
              .min_value = 100,
              .max_value = 60000},
             "core");
}

}  // namespace eltrix::config
