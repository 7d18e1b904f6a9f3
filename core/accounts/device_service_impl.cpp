#include "accounts/device_service_impl.h"

#include "accounts/token_cache.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "crypto/tokens.h"
#include "errors/error.h"
#include "log/log.h"
#include "storage/database.h"

namespace eltrix::accounts {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("devices");
  return instance;
}

errors::Error no_such_device() {
  return errors::not_found("Unknown device");
}

}  // namespace

DeviceServiceImpl::DeviceServiceImpl(const config::Config& config, storage::Database& db,
                                     plugin::Cache& cache)
    : config_(config), db_(db), cache_(cache) {}

IssuedToken DeviceServiceImpl::log_in(const NewLogin& login) {
  IssuedToken issued;
  issued.access_token = crypto::generate_access_token();
  issued.device_id = login.device_id ? *login.device_id : crypto::generate_device_id();
  const std::int64_t lifetime_s = config_.get_int(config::keys::kSessionLifetime, 604800);
  const std::int64_t now = storage::now_ms();
  storage::NewAccessToken token{.user_id = login.user_id,
                                .device_id = issued.device_id,
                                .initial_display_name = login.display_name,
                                .token_hash = crypto::token_hash(issued.access_token),
                                .expires_ts = std::nullopt,
                                .ip = login.ip};
  if (lifetime_s > 0) {
    issued.expires_in_ms = lifetime_s * 1000;
    token.expires_ts = now + *issued.expires_in_ms;
  }
  // The device's earlier tokens go (spec: naming a device_id at login
  // invalidates them), from the cache too.
  auto revoked = db_.write(
      [&](storage::Transaction& tx) { return storage::add_access_token(tx, token, now); });
  forget_cached_tokens(cache_, revoked);
  return issued;
}

// Reads go to the primary: right after renaming or deleting a device the
// client reads the list back, and a lagging replica would undo its change.
std::vector<Device> DeviceServiceImpl::list(const std::string& user_id) {
  return db_.write([&](storage::Transaction& tx) { return storage::list_devices(tx, user_id); });
}

Device DeviceServiceImpl::get(const std::string& user_id, const std::string& device_id) {
  auto device = db_.write(
      [&](storage::Transaction& tx) { return storage::find_device(tx, user_id, device_id); });
  if (!device) throw no_such_device();
  return std::move(*device);
}

void DeviceServiceImpl::rename(const std::string& user_id, const std::string& device_id,
                               const std::optional<std::string>& display_name) {
  if (display_name && display_name->size() > kMaxDeviceNameBytes) {
    throw errors::invalid("M_INVALID_PARAM", "'display_name' is longer than 512 bytes");
  }
  const bool found = db_.write([&](storage::Transaction& tx) {
    // No display_name: the spec leaves the name unchanged, but an unknown
    // device is still not found.
    if (!display_name) return storage::find_device(tx, user_id, device_id).has_value();
    return storage::rename_device(tx, user_id, device_id, *display_name);
  });
  if (!found) throw no_such_device();
}

std::size_t DeviceServiceImpl::remove(const std::string& user_id,
                                      const std::vector<std::string>& device_ids) {
  auto revoked = db_.write(
      [&](storage::Transaction& tx) { return storage::delete_devices(tx, user_id, device_ids); });
  forget_cached_tokens(cache_, revoked);
  logger().info("devices deleted",
                {{"user_id", user_id}, {"devices", std::to_string(device_ids.size())}});
  return revoked.size();
}

std::size_t DeviceServiceImpl::remove_all(const std::string& user_id,
                                          const std::optional<std::string>& keep) {
  auto revoked = db_.write([&](storage::Transaction& tx) {
    return keep ? storage::delete_all_devices(tx, user_id, *keep)
                : storage::delete_all_devices(tx, user_id);
  });
  forget_cached_tokens(cache_, revoked);
  logger().info("all devices deleted",
                {{"user_id", user_id}, {"tokens", std::to_string(revoked.size())}});
  return revoked.size();
}

}  // namespace eltrix::accounts
