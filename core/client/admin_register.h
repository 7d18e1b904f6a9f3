// Shared-secret registration, compatible with Synapse's admin API and its
// register_new_matrix_user script (and scripts/eltrix-register-user):
//
//   GET  /_synapse/admin/v1/register  -> {"nonce": "..."}
//   POST /_synapse/admin/v1/register  {"nonce", "username", "password",
//        "admin", "displayname"?, "user_type"?, "mac"}
//
// mac is the hex HMAC-SHA1, keyed with registration.shared_secret, of
// nonce NUL username NUL password NUL ("admin" | "notadmin") [NUL user_type].
// Nonces are stored in PostgreSQL (any node may receive the POST), are valid
// for accounts::kNonceLifetime and are used up by the first POST that names them,
// whether it succeeds or not. With no shared secret configured both methods
// answer 400 "Shared secret registration is not enabled" (Synapse answers
// that on POST; refusing the GET too avoids storing nonces nobody can use).
// Typed user types ("bot", "support") are not supported: a request with one
// is refused with 400.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_admin_register_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
