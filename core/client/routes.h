// Every route of the Client-Server API, registered by spec area.
#pragma once

#include "client/context.h"
#include "http/router.h"

#include <functional>

namespace eltrix::client {

/// Adds the routes of every area (each area's add_*_routes) to `router`.
/// `ctx` must outlive the server.
void add_client_routes(http::Router& router, Context& ctx);

/// Wraps a handler once more, outside authentication (so it sees refused
/// calls too); the admin API logs every call this way.
using HandlerWrapper = std::function<http::Handler(http::Handler)>;

/// Adds the routes of `staged` to `router` as the Client-Server routes are
/// added: each request in a ReadScope of its own, authenticated by `auth`
/// as its RouteOptions::auth says, then wrapped by `around` if given. For
/// APIs served next to this one with the same access tokens (the admin API).
void add_authenticated_routes(http::Router& router, const http::Router& staged, Authenticator& auth,
                              const HandlerWrapper& around = {});

}  // namespace eltrix::client
