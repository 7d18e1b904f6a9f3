// The admin API: Synapse's /_synapse/admin/v1 and v2 paths with Synapse's
// JSON, so that synapse-admin and operators' scripts work unchanged
// (docs/admin-api.md lists every endpoint). One file per area, as in
// client/. Every route is for server admins only (http::Auth::admin: 403
// M_FORBIDDEN otherwise), except GET /_synapse/admin/v1/server_version,
// which Synapse serves to anyone and synapse-admin reads before logging in.
// Every call is logged (who, what, and the status), whatever its outcome.
#pragma once

#include "admin/context.h"
#include "http/router.h"

namespace eltrix::admin {

/// Registers the admin routes on `router`, each with its auth option set;
/// the caller applies authentication (client::add_authenticated_routes).
void add_admin_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::admin
