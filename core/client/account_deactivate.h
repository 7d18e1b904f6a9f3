// Account lifecycle (spec: "Account management"): POST /account/deactivate
// and GET /account/3pid. Third-party identifiers (email, phone) are not
// handled by this server yet, so the list is always empty.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_account_deactivate_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
