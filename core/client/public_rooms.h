// The public room directory (spec: "Listing rooms"):
//   GET  /_matrix/client/v3/publicRooms  (no access token needed)
//   POST /_matrix/client/v3/publicRooms  (filtered; access token needed)
#pragma once

#include "client/context.h"
#include "http/router.h"
#include "storage/directory.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::client {

/// Rooms per page when the client asks for none, and the most it may ask for.
inline constexpr std::size_t kPublicRoomsDefaultLimit = 100;
inline constexpr std::size_t kPublicRoomsMaxLimit = 500;

/// next_batch/prev_batch tokens: the position of the room at a page's edge
/// and the direction to go from it, as unpadded URL-safe Base64 (opaque to
/// clients, safe in a query string).
std::string encode_public_rooms_token(const storage::PublicRoomsQuery::Position& position);
/// The position in a token; 400 M_INVALID_PARAM when it is not one of ours.
storage::PublicRoomsQuery::Position decode_public_rooms_token(const std::string& token);

void add_public_rooms_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
