#include "app/client_api.h"

#include "app/cluster_wiring.h"
#include "client/auth_impl.h"
#include "client/presence.h"
#include "client/rate_limit_impl.h"
#include "client/routes.h"
#include "client/typing_impl.h"
#include "cluster/mesh.h"
#include "cluster/node_registry.h"
#include "config/client_keys.h"
#include "config/cluster_keys.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "config/media_keys.h"
#include "media/media_service.h"
#include "media/orphan_sweep.h"
#include "media/store.h"
#include "media/thumbnail_service.h"
#include "notify/notifier.h"
#include "notify/stream_recheck.h"
#include "rooms/room_service_impl.h"
#include "rooms/server_keys.h"
#include "storage/database.h"
#include "storage/stream.h"
#include "storage/stream_changes.h"
#include "storage/write_positions.h"

#include <algorithm>

namespace eltrix::app {

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

}  // namespace

struct ClientApi::Services {
  Services(const config::Config& config, storage::Database& db,
           const plugins::Instance<plugin::Cache>& cache_instance,
           const plugins::Instance<plugin::ClusterStrategy>& cluster_instance,
           const plugins::Instance<plugin::MediaStore>& media_instance, metrics::Registry& metrics)
      : strategy(cluster_instance),
        mesh(cluster_instance ? make_mesh(config, metrics) : nullptr),
        cache(cache_instance, metrics),
        media_store(
            *media_instance, media_instance.info().name,
            [&media_instance] { return media_instance.serialize(); }, metrics,
            media_instance.info().abi_minor),
        media(db, media_store, media_settings(config)),
        orphan_sweeper(db, media_store, config.get_string(keys::kServerName),
                       orphan_sweep_options(config, media_instance), metrics),
        thumbnails(media, thumbnail_limits(config), metrics),
        positions(make_write_positions(config, cache_instance)),
        notifier(metrics, static_cast<std::size_t>(config.get_int(keys::kSyncMaxWaiting, 20000)), 2,
                 static_cast<std::size_t>(config.get_int(keys::kSyncMaxWaitingPerUser, 64))),
        recheck(notifier, stream_poll(db),
                std::chrono::milliseconds(config.get_int(keys::kSyncRecheckInterval, 5000)),
                metrics),
        server_keys(db),
        rooms(db, server_keys, notifier, config.get_string(keys::kServerName)),
        auth(client::make_authenticator(
            config, db, cache, (cache_instance.info().capabilities & plugin::kCacheShared) != 0)),
        rate_limiter(client::make_rate_limiter(config, cache, metrics)),
        // Local only: with a cluster, peers hear of the change itself (typing
        // messages) and wake their own syncs.
        typing(std::make_unique<client::TypingStateImpl>([this](const std::string& room_id) {
          notifier.wake_local({notify::room_key(room_id)});
        })) {
    if (mesh) {
      wire_mesh(*mesh, notifier, *typing, cache,
                (cache_instance.info().capabilities & plugin::kCacheShared) != 0);
      nodes = make_node_registry(config, db, mesh->node_id(), metrics);
    }
  }

  /// One transaction on the primary: the head and, if asked, what changed.
  static notify::StreamRecheck::Poll stream_poll(storage::Database& db) {
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

  // Declared first, destroyed last: the notifier, typing state and cache
  // below call into it (publishing) until they are gone; stop() joins its
  // threads before any of them goes away.
  const plugins::Instance<plugin::ClusterStrategy>& strategy;
  std::unique_ptr<cluster::Mesh> mesh;
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
  std::unique_ptr<client::Authenticator> auth;
  std::unique_ptr<client::RateLimiter> rate_limiter;
  std::unique_ptr<client::TypingStateImpl> typing;
  std::unique_ptr<client::PresenceSweeper> presence_sweeper;
  std::unique_ptr<cluster::NodeRegistry> nodes;  ///< with a cluster only
};

ClientApi::ClientApi(const config::Config& config, storage::Database& db,
                     const plugins::Instance<plugin::Cache>& cache,
                     const plugins::Instance<plugin::ClusterStrategy>& cluster,
                     const plugins::Instance<plugin::MediaStore>& media, metrics::Registry& metrics)
    : services_(std::make_unique<Services>(config, db, cache, cluster, media, metrics)) {
  auto& s = *services_;
  if (db.has_replicas()) db.set_position_book(s.positions.get());
  context_ = std::make_unique<client::Context>(client::Context{
      .config = config,
      .db = db,
      .cache = s.cache,
      .metrics = metrics,
      .server_name = config.get_string(keys::kServerName),
      .server_keys = s.server_keys,
      .notifier = s.notifier,
      .rooms = s.rooms,
      .auth = *s.auth,
      .rate_limiter = *s.rate_limiter,
      .typing = *s.typing,
      .media = s.media,
      .thumbnails = s.thumbnails,
      .nodes = s.nodes.get(),
      .max_events_scanned =
          static_cast<std::size_t>(config.get_int(keys::kRoomsMaxEventsScanned, 2000)),
  });
  s.presence_sweeper = std::make_unique<client::PresenceSweeper>(*context_);
  if (s.nodes) {
    s.nodes->on_offline([ctx = context_.get()](const std::vector<std::string>& users) {
      client::presence_changed(*ctx, users);
    });
  }
}

ClientApi::~ClientApi() {
  stop();
}

void ClientApi::add_routes(http::Router& router) {
  client::add_client_routes(router, *context_);
}

void ClientApi::start() {
  services_->presence_sweeper->start();
  services_->orphan_sweeper.start();
  services_->recheck.start();
  if (services_->nodes) services_->nodes->start();
  if (services_->mesh) services_->mesh->start(services_->strategy);
}

void ClientApi::stop() {
  // The mesh first: its reader threads deliver into the notifier.
  if (services_->mesh) services_->mesh->stop();
  if (services_->nodes) services_->nodes->stop();
  services_->recheck.stop();
  services_->presence_sweeper->stop();
  services_->orphan_sweeper.stop();
  services_->notifier.wake_all();
}

std::optional<plugin::Health> ClientApi::mesh_health() const {
  if (!services_->mesh) return std::nullopt;
  return services_->mesh->health();
}

}  // namespace eltrix::app
