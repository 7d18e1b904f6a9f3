// GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId} (spec v1.11)
// and the legacy unauthenticated /_matrix/media/{v3,r0}/thumbnail/... (behind
// media.legacy_endpoints). The requested size is mapped to one of the
// standard sizes (media::choose_size), which are made once and reused; see
// media/thumbnail_service.h.
#include "client/auth.h"
#include "client/media.h"
#include "client/media_response.h"
#include "media/content_headers.h"
#include "media/thumbnail_service.h"

#include <charconv>

namespace eltrix::client {

namespace {

/// Largest width or height a client may ask for; the served size is a
/// standard one anyway.
constexpr int kMaxDimension = 10000;

int dimension(const http::Request& req, const char* name) {
  auto text = req.query(name);
  if (!text) {
    throw http::MatrixError(400, "M_MISSING_PARAM", std::string("Missing ") + name);
  }
  int value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < 1 ||
      value > kMaxDimension) {
    throw http::MatrixError(
        400, "M_INVALID_PARAM",
        std::string(name) + " must be an integer from 1 to " + std::to_string(kMaxDimension));
  }
  return value;
}

media::ThumbnailMethod method(const http::Request& req) {
  auto text = req.query("method");
  if (!text || *text == "scale") return media::ThumbnailMethod::scale;
  if (*text == "crop") return media::ThumbnailMethod::crop;
  throw http::MatrixError(400, "M_INVALID_PARAM", "method must be 'crop' or 'scale'");
}

http::Response thumbnail(Context& ctx, http::Request& req) {
  const int width = dimension(req, "width");
  const int height = dimension(req, "height");
  const media::ThumbnailMethod how = method(req);
  std::string server(req.path_param("serverName"));
  std::string media_id(req.path_param("mediaId"));
  return when_uploaded(ctx, req, media_id, [&ctx, server, media_id, width, height, how] {
    auto served = ctx.thumbnails.get(server, media_id, width, height, how);
    auto out = media_stream_response(200, served.content_type, std::move(served.body), served.size);
    out.headers.emplace_back("Content-Disposition",
                             media::content_disposition(served.content_type, ""));
    return out;
  });
}

}  // namespace

void add_media_thumbnail_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}",
             [&ctx](http::Request& req) { return thumbnail(ctx, req); });
  if (!media_legacy_endpoints(ctx)) return;
  for (const char* prefix : {"/_matrix/media/v3", "/_matrix/media/r0"}) {
    router.add("GET", std::string(prefix) + "/thumbnail/{serverName}/{mediaId}",
               [&ctx](http::Request& req) { return thumbnail(ctx, req); },
               {.auth = http::Auth::none});
  }
}

}  // namespace eltrix::client
