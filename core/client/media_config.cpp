// GET /_matrix/client/v1/media/config (spec v1.11) and the legacy
// /_matrix/media/{v3,r0}/config. Both need an access token (the legacy one
// did too); the legacy paths are served only with media.legacy_endpoints.
#include "client/auth.h"
#include "client/media.h"
#include "media/media_service.h"

namespace eltrix::client {

namespace {
http::Response media_config(Context& ctx) {
  return http::Response::json(
      200, nlohmann::json{{"m.upload.size", ctx.media.settings().max_upload_bytes}});
}
}  // namespace

void add_media_config_routes(http::Router& router, Context& ctx) {
  const auto handler = [&ctx](http::Request&) { return media_config(ctx); };
  router.add("GET", "/_matrix/client/v1/media/config", handler);
  if (!media_legacy_endpoints(ctx)) return;
  router.add("GET", "/_matrix/media/v3/config", handler);
  router.add("GET", "/_matrix/media/r0/config", handler);
}

}  // namespace eltrix::client
