// Room aliases and room directory visibility (spec: "Room aliases" and the
// /directory/list/room endpoints of "Listing rooms"):
//   PUT/GET/DELETE /_matrix/client/v3/directory/room/{roomAlias}
//   GET            /_matrix/client/v3/rooms/{roomId}/aliases
//   GET/PUT        /_matrix/client/v3/directory/list/room/{roomId}
// The storage side, including create_alias() for createRoom and
// validate_canonical_alias() for m.room.canonical_alias, is storage/directory.h.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_directory_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
