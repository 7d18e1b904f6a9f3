// Helpers shared by the room handlers: path parameters, what the room
// service's outcomes mean in HTTP, and membership checks.
#pragma once

#include "client/auth.h"
#include "client/context.h"
#include "http/router.h"
#include "rooms/event_store.h"
#include "rooms/room_service.h"

#include <string>

namespace eltrix::client {

/// The {roomId} path parameter, checked against the room ID grammar
/// (400 M_INVALID_PARAM otherwise).
std::string room_id_param(const http::Request& req);
/// A user ID from a request (path or body): 400 M_INVALID_PARAM when malformed.
std::string checked_user_id(std::string_view user_id);

/// The event when the pipeline accepted it; otherwise throws the Matrix error
/// the rejection means (403 M_FORBIDDEN, 400 M_BAD_JSON, 404 M_NOT_FOUND,
/// 413 M_TOO_LARGE, 400 M_UNSUPPORTED_ROOM_VERSION, 400 M_BAD_ALIAS or
/// M_INVALID_PARAM for a canonical alias). A
/// soft-failed event counts as sent: it is stored.
rooms::SentEvent sent_or_throw(const rooms::SendResult& result);
/// The Matrix error for a rejected outcome.
http::MatrixError rejection_error(const rooms::Outcome& outcome);

/// 403 M_FORBIDDEN unless `user_id` is joined to `room_id` now.
void require_joined(storage::Transaction& tx, const std::string& room_id,
                    const std::string& user_id);

}  // namespace eltrix::client
