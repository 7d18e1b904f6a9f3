// Room tagging (spec: "Room Tagging"): GET /user/{userId}/rooms/{roomId}/tags
// and PUT/DELETE .../tags/{tag}. Tags are the m.tag room account data,
// {"tags": {tag: {"order": number, ...}}}, so /sync delivers them with the
// room's account data.
#pragma once

#include "http/router.h"

#include <cstddef>

namespace eltrix::client {

struct Context;

/// The spec's limit on a tag name, in bytes.
inline constexpr std::size_t kMaxTagBytes = 255;
/// Bound on the tags of one room, so m.tag stays small.
inline constexpr std::size_t kMaxTagsPerRoom = 100;

void add_tag_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
