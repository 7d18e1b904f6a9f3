// Helpers shared by the room handlers: path parameters, the concrete room
// service, and membership checks.
#pragma once

#include "client/auth.h"
#include "client/context.h"
#include "http/router.h"
#include "rooms/event_store.h"
#include "rooms/room_service_impl.h"

#include <string>

namespace eltrix::client {

/// The {roomId} path parameter, checked against the room ID grammar
/// (400 M_INVALID_PARAM otherwise).
std::string room_id_param(const http::Request& req);
/// A user ID from a request (path or body): 400 M_INVALID_PARAM when malformed.
std::string checked_user_id(std::string_view user_id);

rooms::RoomServiceImpl& room_service(Context& ctx);

/// 403 M_FORBIDDEN unless `user_id` is joined to `room_id` now.
void require_joined(storage::Transaction& tx, const std::string& room_id,
                    const std::string& user_id);

/// The user's displayname/avatar_url for their member events (absent keys
/// when unset).
nlohmann::json profile_for_member_event(storage::Transaction& tx, const std::string& user_id);

}  // namespace eltrix::client
