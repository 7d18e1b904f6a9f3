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

http::MatrixError rejection_error(const rooms::Outcome& outcome) {
  using rooms::Rejection;
  switch (outcome.rejection) {
    case Rejection::invalid: return bad_json(outcome.reason);
    case Rejection::too_large: return http::MatrixError(413, "M_TOO_LARGE", outcome.reason);
    case Rejection::not_found: return not_found(outcome.reason);
    case Rejection::unsupported_version:
      return http::MatrixError(400, "M_UNSUPPORTED_ROOM_VERSION", outcome.reason);
    case Rejection::bad_alias: return http::MatrixError(400, "M_BAD_ALIAS", outcome.reason);
    case Rejection::bad_alias_syntax: return invalid_param(outcome.reason);
    // The spec gives no status; Synapse's 400 M_UNKNOWN is what clients see.
    case Rejection::other_room: return http::MatrixError(400, "M_UNKNOWN", outcome.reason);
    case Rejection::none:
    case Rejection::forbidden:
    case Rejection::bad_signature: break;
  }
  return forbidden(outcome.reason);
}

rooms::SentEvent sent_or_throw(const rooms::SendResult& result) {
  if (result.outcome.is_rejected()) throw rejection_error(result.outcome);
  return result.event;
}

void require_joined(storage::Transaction& tx, const std::string& room_id,
                    const std::string& user_id) {
  auto membership = rooms::membership_of(tx, room_id, user_id);
  if (!membership || membership->membership != "join") {
    throw forbidden("You are not joined to room " + room_id);
  }
}

}  // namespace eltrix::client
