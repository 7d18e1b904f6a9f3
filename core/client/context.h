// What every Client-Server API handler can reach: the services of one node.
// Built once at start-up (app/node.cpp); handlers get it by reference.
#pragma once

#include <eltrix/plugin/cache.h>

#include <cstddef>
#include <string>

namespace eltrix::config {
class Config;
}
namespace eltrix::storage {
class Database;
}
namespace eltrix::metrics {
class Registry;
}
namespace eltrix::notify {
class Notifier;
}
namespace eltrix::rooms {
class RoomService;
class ServerKeys;
}  // namespace eltrix::rooms
namespace eltrix::media {
class MediaService;
class ThumbnailService;
}  // namespace eltrix::media
namespace eltrix::cluster {
class NodeRegistry;
}
namespace eltrix::accounts {
class AccountService;
class DeviceService;
}  // namespace eltrix::accounts
namespace eltrix::receipts {
class ReceiptService;
}
namespace eltrix::services {
class TypingState;
class Presence;
}  // namespace eltrix::services
namespace eltrix::client {

class Authenticator;
class RateLimiter;

struct Context {
  const config::Config& config;
  storage::Database& db;
  /// The configured cache plugin, already guarded (never throws; failures
  /// read as misses).
  plugin::Cache& cache;
  metrics::Registry& metrics;
  std::string server_name;
  rooms::ServerKeys& server_keys;
  notify::Notifier& notifier;
  rooms::RoomService& rooms;
  accounts::AccountService& accounts;
  accounts::DeviceService& devices;
  receipts::ReceiptService& receipts;
  Authenticator& auth;
  RateLimiter& rate_limiter;
  services::TypingState& typing;
  services::Presence& presence;
  /// The media repository over the configured media-store plugin.
  media::MediaService& media;
  media::ThumbnailService& thumbnails;
  /// With a cluster: this node's id and which nodes are alive (presence rows
  /// are tied to the node that refreshed them). nullptr without a cluster.
  cluster::NodeRegistry* nodes = nullptr;
  /// rooms.max_events_scanned: rows one request reads from a room through a
  /// filter (rooms/room_scan.h).
  std::size_t max_events_scanned = 2000;
};

}  // namespace eltrix::client
