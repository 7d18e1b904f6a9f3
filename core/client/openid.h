// OpenID (spec: "OpenID", POST /user/{userId}/openid/request_token): a token
// a client hands to a third party (an integration manager, a widget) to prove
// who it is, and the endpoint where that party checks it,
// GET /_matrix/federation/v1/openid/userinfo. The latter belongs to the
// federation API; until Eltrix has a federation listener it is served on the
// client port, where such services usually reach it anyway through a
// .well-known or reverse proxy.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_openid_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
