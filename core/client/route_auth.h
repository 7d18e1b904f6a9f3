// Authentication as a route option (http::RouteOptions::auth), applied once
// where the Client-Server routes are registered (client/routes.cpp), as the
// read scope is: handlers read the caller from Request::requester() and
// never check an access token themselves. See docs/decisions.md D34.
#pragma once

#include "client/auth.h"
#include "http/router.h"

namespace eltrix::client {

/// `handler`, run only once the request passes `auth`:
///  - required: a valid token (401 M_MISSING_TOKEN, or M_UNKNOWN_TOKEN for
///    one that is unknown, expired or logged out);
///  - optional: the caller is set when a token is given (and must be valid);
///  - admin: as required, and the user must be a server admin (403 M_FORBIDDEN);
///  - none: `handler` itself, no token is read.
/// Rate limits and user-interactive authentication run in the handler, after
/// this, so they see the authenticated user.
http::Handler with_route_auth(http::Auth auth, Authenticator& authenticator, http::Handler handler);

}  // namespace eltrix::client
