// Account management (spec: "Account registration and management", "Current
// account information"): GET /_matrix/client/v3/account/whoami and POST
// /_matrix/client/v3/account/password.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_account_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
