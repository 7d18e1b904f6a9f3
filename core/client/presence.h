// GET/PUT /presence/{userId}/status (spec: "Presence"). The presence service
// (services/presence.h) keeps the state, wakes syncs and sweeps users offline.
#pragma once

#include "http/router.h"
#include "sync/presence_content.h"

namespace eltrix::client {

struct Context;

// m.presence content is sync's (the presence section): one definition.
using sync::kCurrentlyActiveMs;
using sync::presence_content;

void add_presence_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
