// The user directory (spec: "User Directory"):
//   POST /_matrix/client/v3/user_directory/search
#pragma once

#include "client/context.h"
#include "http/router.h"

#include <cstddef>

namespace eltrix::client {

/// Results when the client asks for no particular number (the spec's
/// default), and the most it may ask for.
inline constexpr std::size_t kUserSearchDefaultLimit = 10;
inline constexpr std::size_t kUserSearchMaxLimit = 50;

void add_user_directory_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
