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
              .help = "Address the cluster mesh listens on (port cluster.port). Empty: the same "
                      "as http.bind_address. Peers must reach it; keep it off public networks.",
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
