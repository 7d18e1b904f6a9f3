// What every admin API handler can reach: the services of one node, the
// same ones the Client-Server API uses (services/services.h). Built once at
// start-up (app/client_api.cpp); handlers get it by reference.
#pragma once

#include <eltrix/plugin/cache.h>

#include <string>

namespace eltrix::config {
class Config;
}
namespace eltrix::storage {
class Database;
}
namespace eltrix::rooms {
class RoomService;
}
namespace eltrix::media {
class MediaService;
}
namespace eltrix::accounts {
class AccountService;
class DeviceService;
}  // namespace eltrix::accounts

namespace eltrix::admin {

class RoomDeletions;

struct Context {
  const config::Config& config;
  storage::Database& db;
  /// The configured cache plugin, already guarded (never throws).
  plugin::Cache& cache;
  std::string server_name;
  accounts::AccountService& accounts;
  accounts::DeviceService& devices;
  rooms::RoomService& rooms;
  media::MediaService& media;
  /// Background room deletions (admin/room_deletions.h).
  RoomDeletions* deletions = nullptr;
};

}  // namespace eltrix::admin
