// Room membership (spec: "Room membership"): join, invite, leave, kick, ban,
// unban, forget, and the member lists.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_membership_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
