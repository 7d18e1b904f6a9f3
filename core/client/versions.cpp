#include "client/versions.h"

#include "client/auth.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "matrix/room_version.h"

namespace eltrix::client {

const std::vector<std::string>& advertised_spec_versions() {
  // A client reads this list as a promise: every endpoint of each listed
  // version is served, in the way that version describes. v1.11 makes
  // authenticated media (/_matrix/client/v1/media/*) the way clients fetch
  // media, served by core/client/media_*.cpp.
  // The r0.x versions are left out: they promise the legacy endpoints that
  // v1.x dropped or deprecated (/initialSync, /events, ...), which are not
  // served, and no client needs them here: matrix-js-sdk (Element) requires
  // v1.1 or later, and matrix-nio calls the r0 paths without reading this list.
  static const std::vector<std::string> versions = {
      "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11",
  };
  return versions;
}

std::string client_base_url(std::string_view public_baseurl, std::string_view server_name) {
  if (!public_baseurl.empty()) return std::string(public_baseurl);
  return "https://" + std::string(server_name);
}

namespace {

http::Response versions() {
  return http::Response::json(200, nlohmann::json{{"versions", advertised_spec_versions()},
                                                  {"unstable_features", nlohmann::json::object()}});
}

http::Response well_known(const Context& ctx) {
  const auto configured = ctx.config.get(config::keys::kPublicBaseUrl);
  // CORS headers come from the server on every response, as the spec asks
  // for this file.
  return http::Response::json(
      200,
      nlohmann::json{{"m.homeserver",
                      {{"base_url", client_base_url(configured.value_or(""), ctx.server_name)}}}});
}

http::Response capabilities() {
  nlohmann::json available = nlohmann::json::object();
  for (const auto& version : matrix::supported_room_versions()) {
    available[std::string(version.id)] = "stable";
  }
  const nlohmann::json enabled = {{"enabled", true}};
  return http::Response::json(
      200,
      nlohmann::json{
          {"capabilities",
           {
               {"m.change_password", enabled},
               {"m.room_versions",
                {{"default", std::string(matrix::kDefaultRoomVersion)}, {"available", available}}},
               {"m.set_displayname", enabled},
               {"m.set_avatar_url", enabled},
               // Third-party identifiers (email, phone) are not handled.
               {"m.3pid_changes", {{"enabled", false}}},
               // POST /login/get_token (QR sign-in) is not offered: said
               // here, so clients do not try it (spec: the capability).
               {"m.get_login_token", {{"enabled", false}}},
           }}});
}

}  // namespace

void add_versions_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/versions", [](http::Request&) { return versions(); },
             {.auth = http::Auth::none});
  router.add("GET", "/.well-known/matrix/client",
             [&ctx](http::Request&) { return well_known(ctx); }, {.auth = http::Auth::none});
  router.add("GET", "/_matrix/client/v3/capabilities",
             [](http::Request&) { return capabilities(); });
}

}  // namespace eltrix::client
