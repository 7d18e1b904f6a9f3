// Application-service bridges' third-party networks (spec: "Third-party
// Networks"). Eltrix has no application services yet, so it knows no
// protocols: GET /thirdparty/protocols answers {} (as Synapse does without
// bridges), which tells Element there is nothing to offer.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_thirdparty_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
