#include "client/user_data_common.h"

#include "client/json_body.h"
#include "log/log.h"
#include "matrix/ids.h"
#include "notify/notifier.h"
#include "storage/database.h"
#include "storage/directory.h"
#include "storage/user_data.h"

#include <chrono>

namespace eltrix::client {

namespace {
const log::Logger& logger() {
  static const log::Logger instance("client");
  return instance;
}
}  // namespace

std::string require_user_id(std::string_view user_id) {
  if (!matrix::parse_user_id(user_id)) {
    throw invalid_param("'" + std::string(user_id) + "' is not a valid user ID");
  }
  return std::string(user_id);
}

std::string require_self(const Requester& who, std::string_view path_user,
                         const std::string& message) {
  std::string user_id = require_user_id(path_user);
  if (user_id != who.user_id) throw forbidden(message);
  return user_id;
}

std::string require_room_id(std::string_view room_id) {
  if (!matrix::is_valid_room_id(std::string(room_id))) {
    throw invalid_param("'" + std::string(room_id) + "' is not a valid room ID");
  }
  return std::string(room_id);
}

bool is_joined(Context& ctx, const std::string& room_id, const std::string& user_id) {
  auto check = [&](storage::Transaction& tx) {
    return storage::membership_of(tx, room_id, user_id) == std::optional<std::string>("join");
  };
  return ctx.db.read(check) || ctx.db.write(check);
}

void wake(Context& ctx, const std::vector<std::string>& keys) {
  try {
    ctx.notifier.notify(keys);
  } catch (const std::exception& e) {
    logger().warn("sync wake-up failed", {{"error", e.what()}});
  }
}

void wake_user(Context& ctx, const std::string& user_id) {
  wake(ctx, {notify::user_key(user_id)});
}

void wake_room(Context& ctx, const std::string& room_id) {
  wake(ctx, {notify::room_key(room_id)});
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool share_a_room(storage::Transaction& tx, const std::string& a, const std::string& b) {
  return tx
      .exec_optional(
          "SELECT 1 FROM room_memberships x JOIN room_memberships y ON y.room_id = x.room_id "
          "WHERE x.user_id = $1 AND x.membership = 'join' AND y.user_id = $2 "
          "AND y.membership = 'join' LIMIT 1",
          a, b)
      .has_value();
}

}  // namespace eltrix::client
