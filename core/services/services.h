// The services every API of one node shares: rooms (the one event
// pipeline), accounts and devices, receipts, media, typing, presence, the
// sync notifier and its recheck, read-your-writes positions, the server's
// keys and, with a cluster, the mesh and the node registry. Built once at
// start-up (app/node.cpp) from the configuration and the plugins, and handed
// by reference to each API: the Client-Server API today; the federation API
// and a WebSocket sync next. What only one API needs (access-token
// authentication, user-interactive auth, rate limits) stays with that API.
#pragma once

#include "accounts/account_service_impl.h"
#include "accounts/device_service_impl.h"
#include "media/media_service.h"
#include "media/orphan_sweep.h"
#include "media/store.h"
#include "media/thumbnail_service.h"
#include "notify/notifier.h"
#include "notify/stream_recheck.h"
#include "plugins/guarded_cache.h"
#include "plugins/registry.h"
#include "receipts/receipt_service_impl.h"
#include "rooms/room_service_impl.h"
#include "rooms/server_keys.h"
#include "services/presence.h"
#include "services/push_evaluation.h"
#include "services/push_sender.h"
#include "services/typing_state.h"
#include "storage/write_positions.h"

#include <eltrix/plugin/cluster_strategy.h>
#include <eltrix/plugin/media_store.h>

#include <memory>
#include <optional>
#include <string>

namespace eltrix::config {
class Config;
}
namespace eltrix::metrics {
class Registry;
}
namespace eltrix::storage {
class Database;
}
namespace eltrix::cluster {
class Mesh;
class NodeRegistry;
}  // namespace eltrix::cluster

namespace eltrix::services {

class Services {
 public:
  /// `cluster_instance` may be empty (no cluster configured): no mesh then.
  Services(const config::Config& config, storage::Database& db,
           const plugins::Instance<plugin::Cache>& cache_instance,
           const plugins::Instance<plugin::ClusterStrategy>& cluster_instance,
           const plugins::Instance<plugin::MediaStore>& media_instance, metrics::Registry& metrics);
  ~Services();
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;
  Services(Services&&) = delete;
  Services& operator=(Services&&) = delete;

  /// Starts the background work (presence sweeping, orphaned media, the sync
  /// recheck, push evaluation and sending, the node registry, the cluster
  /// mesh); call once serving.
  /// Throws when the mesh cannot listen.
  void start();
  /// Stops it (idempotent), and answers every sync still waiting (draining).
  void stop();
  /// The mesh's health; nullopt without a cluster.
  [[nodiscard]] std::optional<plugin::Health> mesh_health() const;

  const config::Config& config;
  storage::Database& db;
  metrics::Registry& metrics;
  const std::string server_name;
  /// rooms.max_events_scanned: rows one request reads from a room through a
  /// filter (rooms/room_scan.h).
  const std::size_t max_events_scanned;
  const bool cache_shared;  ///< the cache plugin is shared by every node

  // Declared first, destroyed last: the notifier, typing state and cache
  // below call into it (publishing) until they are gone; stop() joins its
  // threads before any of them goes away.
  const plugins::Instance<plugin::ClusterStrategy>& strategy;
  std::unique_ptr<cluster::Mesh> mesh;
  /// The configured cache plugin, guarded (never throws; failures read as misses).
  plugins::GuardedCache cache;
  media::Store media_store;
  media::MediaService media;
  media::OrphanSweeper orphan_sweeper;
  media::ThumbnailService thumbnails;
  std::unique_ptr<storage::WritePositions> positions;
  notify::Notifier notifier;
  notify::StreamRecheck recheck;
  rooms::ServerKeys server_keys;
  rooms::RoomServiceImpl rooms;
  TypingStateImpl typing;
  std::unique_ptr<cluster::NodeRegistry> nodes;  ///< with a cluster only
  Presence presence;
  accounts::AccountServiceImpl accounts;
  accounts::DeviceServiceImpl devices;
  receipts::ReceiptServiceImpl receipts;
  /// Push notifications (D49): the evaluator fills the notifications table
  /// and the push queue; the sender delivers the queue to push gateways.
  PushEvaluation push_evaluation;
  PushSender push_sender;
};

}  // namespace eltrix::services
