// Spaces (spec: "Spaces", GET /_matrix/client/v1/rooms/{roomId}/hierarchy):
// the rooms below a space, walked breadth first through the m.space.child
// state of each room (children with a non-empty "via", ordered by their
// "order" key, then timestamp, then room ID), with max_depth,
// suggested_only, limit and from. A room the user may not see is left out
// (its children with it); the spec's rule, as Synapse applies it: joined or
// invited, world readable, a public or knock join rule, or a restricted one
// naming a room the user is joined to. The requested room itself answers
// 403 when the user may not see it.
//
// Only rooms this server knows are listed: rooms on other servers need
// federation (the /hierarchy of the federation API), which comes later.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_space_hierarchy_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
