// Access tokens: who is making a request (spec: "Client Authentication").
#pragma once

#include "http/router.h"

#include <cstdint>
#include <optional>
#include <string>

namespace eltrix::client {

struct Context;

/// The authenticated user and device behind an access token (the route
/// option http::RouteOptions::auth puts it in the request).
using Requester = http::Requester;

/// Resolves access tokens to Requesters, caching lookups through the cache
/// plugin; logout invalidates the cache entry so it takes effect at once.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  /// The token from "Authorization: Bearer ..." or ?access_token=. Throws
  /// MatrixError 401 M_MISSING_TOKEN when there is none, 401 M_UNKNOWN_TOKEN
  /// when it is unknown, expired or logged out.
  virtual Requester authenticate(http::Request& request) = 0;
};

}  // namespace eltrix::client
