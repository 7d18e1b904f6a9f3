// PUT /_matrix/client/v3/rooms/{roomId}/typing/{userId}.
#pragma once

#include "http/router.h"

namespace eltrix::client {

struct Context;

void add_typing_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
