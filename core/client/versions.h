// Discovery (spec: "Server Discovery", "Capabilities negotiation"):
//   GET /_matrix/client/versions          (no access token)
//   GET /.well-known/matrix/client        (no access token)
//   GET /_matrix/client/v3/capabilities
#pragma once

#include "client/context.h"
#include "http/router.h"

#include <string>
#include <string_view>
#include <vector>

namespace eltrix::client {

/// The spec versions /versions advertises (see versions.cpp for why these).
const std::vector<std::string>& advertised_spec_versions();

/// The homeserver base URL of /.well-known/matrix/client: `public_baseurl`
/// when set, else https://<server_name>.
std::string client_base_url(std::string_view public_baseurl, std::string_view server_name);

void add_versions_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
