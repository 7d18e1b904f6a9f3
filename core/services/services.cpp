#include "services/services.h"

#include "cluster/mesh.h"
#include "cluster/node_registry.h"
#include "config/client_keys.h"
#include "config/cluster_keys.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "config/media_keys.h"
#include "services/cluster_wiring.h"
#include "storage/database.h"
#include "storage/stream.h"
#include "storage/stream_changes.h"

#include <algorithm>

namespace eltrix::services {

namespace keys = config::keys;

namespace {

media::MediaSettings media_settings(const config::Config& config) {
  media::MediaSettings out;
  out.server_name = config.get_string(keys::kServerName);
  out.max_upload_bytes =
      static_cast<std::uint64_t>(config.get_int(keys::kMediaMaxUploadSize, 50)) * 1024U * 1024U;
  out.max_pending_uploads = config.get_int(keys::kMediaMaxPendingUploads, 10);
  out.pending_lifetime =
      std::chrono::seconds(config.get_int(keys::kMediaPendingUploadLifetime, 86400));
  return out;
}

media::ThumbnailLimits thumbnail_limits(const config::Config& config) {
  return {.max_source_bytes =
              static_cast<std::uint64_t>(config.get_int(keys::kMediaThumbnailMaxSourceSize, 20)) *
              1024U * 1024U,
          .max_pixels =
              static_cast<std::uint64_t>(config.get_int(keys::kMediaThumbnailMaxPixels, 32000000))};
}

/// Read-your-writes bookkeeping (storage/write_positions.h). Positions live
/// well beyond the replicas' maximum lag, so that when one expires every
/// replica still in rotation has replayed the write it stood for.
std::unique_ptr<storage::WritePositions> make_write_positions(
    const config::Config& config, const plugins::Instance<plugin::Cache>& cache) {
  storage::WritePositionsOptions options;
  options.cache_shared = (cache.info().capabilities & plugin::kCacheShared) != 0;
  options.clustered = config.get_bool(keys::kClusterEnabled, false);
  // Declared by db-routing-replicas; absent (the default) with another router.
  const std::int64_t max_lag_ms = config.get_int("database.replica_max_lag_ms", 5000);
  options.ttl = std::max(std::chrono::seconds(60), std::chrono::duration_cast<std::chrono::seconds>(
                                                       std::chrono::milliseconds(max_lag_ms) * 10));
  return std::make_unique<storage::WritePositions>(
      cache.get(), [&cache] { return cache.serialize(); }, options);
}

/// media.orphan_sweep_* (media/orphan_sweep.h).
media::OrphanSweepOptions orphan_sweep_options(
    const config::Config& config, const plugins::Instance<plugin::MediaStore>& media_instance) {
  media::OrphanSweepOptions options;
  options.interval = std::chrono::seconds(config.get_int(keys::kMediaOrphanSweepInterval, 21600));
  options.min_age = std::chrono::seconds(config.get_int(keys::kMediaOrphanMinAge, 3600));
  options.shared_store = (media_instance.info().capabilities & plugin::kMediaShared) != 0;
  return options;
}

/// One transaction on the primary: the head and, if asked, what changed.
notify::StreamRecheck::Poll stream_poll(storage::Database& db) {
  return [&db](std::int64_t last, bool with_changes) {
    return db.write([&](storage::Transaction& tx) {
      notify::StreamObservation seen;
      seen.head = storage::current_stream(tx);
      if (with_changes && seen.head > last) {
        seen.changes = storage::stream_changes(tx, last, seen.head);
      }
      return seen;
    });
  };
}

}  // namespace

Services::Services(const config::Config& config, storage::Database& db,
                   const plugins::Instance<plugin::Cache>& cache_instance,
                   const plugins::Instance<plugin::ClusterStrategy>& cluster_instance,
                   const plugins::Instance<plugin::MediaStore>& media_instance,
                   metrics::Registry& metrics)
    : config(config),
      db(db),
      metrics(metrics),
      server_name(config.get_string(keys::kServerName)),
      max_events_scanned(
          static_cast<std::size_t>(config.get_int(keys::kRoomsMaxEventsScanned, 2000))),
      cache_shared((cache_instance.info().capabilities & plugin::kCacheShared) != 0),
      strategy(cluster_instance),
      mesh(cluster_instance ? make_mesh(config, metrics) : nullptr),
      cache(cache_instance, metrics),
      media_store(
          *media_instance, media_instance.info().name,
          [&media_instance] { return media_instance.serialize(); }, metrics,
          media_instance.info().abi_minor),
      media(db, media_store, media_settings(config)),
      orphan_sweeper(db, media_store, server_name, orphan_sweep_options(config, media_instance),
                     metrics),
      thumbnails(media, thumbnail_limits(config), metrics),
      positions(make_write_positions(config, cache_instance)),
      notifier(metrics, static_cast<std::size_t>(config.get_int(keys::kSyncMaxWaiting, 20000)), 2,
               static_cast<std::size_t>(config.get_int(keys::kSyncMaxWaitingPerUser, 64))),
      recheck(notifier, stream_poll(db),
              std::chrono::milliseconds(config.get_int(keys::kSyncRecheckInterval, 5000)), metrics),
      server_keys(db, std::chrono::seconds(config.get_int(keys::kSigningKeyRefresh, 60))),
      rooms(db, server_keys, notifier, server_name),
      // Local only: with a cluster, peers hear of the change itself (typing
      // messages) and wake their own syncs.
      typing(
          [this](const std::string& room_id) { notifier.wake_local({notify::room_key(room_id)}); }),
      nodes(mesh ? make_node_registry(config, db, mesh->node_id(), metrics) : nullptr),
      presence(db, rooms, notifier, nodes.get()),
      accounts(config, db, cache),
      devices(config, db, cache),
      receipts(db, notifier),
      push_evaluation(db, server_name, metrics),
      push_sender(db, metrics) {
  if (mesh) wire_mesh(*mesh, notifier, typing, cache, cache_shared);
  if (nodes) {
    nodes->on_offline([this](const std::vector<std::string>& users) { presence.changed(users); });
  }
  if (db.has_replicas()) db.set_position_book(positions.get());
}

Services::~Services() {
  stop();
}

void Services::start() {
  presence.start();
  orphan_sweeper.start();
  recheck.start();
  push_evaluation.start();
  push_sender.start();
  if (nodes) nodes->start();
  if (mesh) mesh->start(strategy);
}

void Services::stop() {
  // The mesh first: its reader threads deliver into the notifier.
  if (mesh) mesh->stop();
  if (nodes) nodes->stop();
  recheck.stop();
  push_sender.stop();
  push_evaluation.stop();
  presence.stop();
  orphan_sweeper.stop();
  typing.stop();
  notifier.wake_all();
}

std::optional<plugin::Health> Services::mesh_health() const {
  if (!mesh) return std::nullopt;
  return mesh->health();
}

}  // namespace eltrix::services
