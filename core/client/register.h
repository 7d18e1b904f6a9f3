// Account registration (spec: "Account registration and management"):
// POST /_matrix/client/v3/register, GET /_matrix/client/v3/register/available
// and GET /_matrix/client/v1/register/m.login.registration_token/validity.
//
// Open registration is off unless registration.enabled; with
// registration.requires_token the only flow is m.login.registration_token,
// otherwise m.login.dummy. Guest accounts are not offered.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_register_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
