#include "admin/leave_rooms.h"

#include "log/log.h"
#include "rooms/room_service.h"
#include "storage/admin_users.h"
#include "storage/database.h"

namespace eltrix::admin {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("admin");
  return instance;
}

}  // namespace

std::vector<std::string> leave_all_rooms(Context& ctx, const std::string& user_id) {
  // Read on the primary: the caller has just changed the account.
  auto rooms = ctx.db.write([&](storage::Transaction& tx) {
    std::vector<std::string> all;
    for (const char* membership : {"join", "invite", "knock"}) {
      auto some = storage::rooms_with_membership(tx, user_id, membership);
      all.insert(all.end(), some.begin(), some.end());
    }
    return all;
  });
  std::vector<std::string> left;
  for (const auto& room_id : rooms) {
    auto result = ctx.rooms.change_membership(
        {.room_id = room_id, .sender = user_id, .target = user_id, .membership = "leave"});
    if (result.outcome.is_rejected()) {
      logger().warn("could not take a user out of a room",
                    {{"user_id", user_id}, {"room_id", room_id}, {"why", result.outcome.reason}});
      continue;
    }
    left.push_back(room_id);
  }
  return left;
}

}  // namespace eltrix::admin
