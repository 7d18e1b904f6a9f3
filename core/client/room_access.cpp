#include "client/room_access.h"

#include "client/json_body.h"
#include "matrix/ids.h"

namespace eltrix::client {

std::string room_id_param(const http::Request& req) {
  std::string room_id(req.path_param("roomId"));
  if (!matrix::is_valid_room_id(room_id)) {
    throw invalid_param("'" + room_id + "' is not a valid room ID");
  }
  return room_id;
}

std::string checked_user_id(std::string_view user_id) {
  if (!matrix::parse_user_id(user_id)) {
    throw invalid_param("'" + std::string(user_id) + "' is not a valid user ID");
  }
  return std::string(user_id);
}

rooms::RoomServiceImpl& room_service(Context& ctx) {
  // The node always builds a RoomServiceImpl; the interface exists so areas
  // that only send events do not depend on the implementation.
  return static_cast<rooms::RoomServiceImpl&>(ctx.rooms);
}

void require_joined(storage::Transaction& tx, const std::string& room_id,
                    const std::string& user_id) {
  auto membership = rooms::membership_of(tx, room_id, user_id);
  if (!membership || membership->membership != "join") {
    throw forbidden("You are not joined to room " + room_id);
  }
}

nlohmann::json profile_for_member_event(storage::Transaction& tx, const std::string& user_id) {
  nlohmann::json out = nlohmann::json::object();
  auto row =
      tx.exec_optional("SELECT displayname, avatar_url FROM users WHERE user_id = $1", user_id);
  if (row) {
    if (auto name = storage::nullable<std::string>((*row)[0])) out["displayname"] = *name;
    if (auto avatar = storage::nullable<std::string>((*row)[1])) out["avatar_url"] = *avatar;
  }
  return out;
}

}  // namespace eltrix::client
