// A scratch database with the schema and the services of core/accounts and
// core/receipts built on it as services::Services builds them, plus a room
// service to make rooms with. Each test case gets its own database.
#pragma once

#include "../storage/support.h"
#include "accounts/account_service_impl.h"
#include "accounts/device_service_impl.h"
#include "config/config.h"
#include "config/schema.h"
#include "metrics/registry.h"
#include "notify/notifier.h"
#include "receipts/receipt_service_impl.h"
#include "rooms/room_service_impl.h"
#include "rooms/server_keys.h"
#include "storage/database.h"
#include "unit/client/memory_cache.h"

#include <functional>
#include <string>

namespace eltrix::test {

class ServicesFixture {
 public:
  ServicesFixture();

  /// "@<name>:here.test".
  static std::string user(const std::string& name) { return "@" + name + ":here.test"; }

  /// A public room created (and joined) by `creator`; waits until readers see it.
  std::string create_room(const std::string& creator);
  /// Sends a message; returns its event ID.
  std::string say(const std::string& room_id, const std::string& sender, const std::string& body);
  void join(const std::string& room_id, const std::string& user_id);

  /// Runs one statement on the primary and returns the first column of the
  /// first row as text ("" when there is no row or it is NULL).
  std::string scalar(const std::string& sql, const std::string& param);

  ScratchDatabase scratch;
  metrics::Registry registry;
  FixedRouting routing;
  storage::Database db;
  config::Schema schema;
  config::Config config;
  MemoryCache cache;
  notify::Notifier notifier;
  rooms::ServerKeys keys;
  rooms::RoomServiceImpl rooms;
  accounts::AccountServiceImpl accounts;
  accounts::DeviceServiceImpl devices;
  receipts::ReceiptServiceImpl receipts;
};

/// The errors::Error `fn` throws, as "kind errcode" ("none" if it returns).
std::string domain_error(const std::function<void()>& fn);

}  // namespace eltrix::test
