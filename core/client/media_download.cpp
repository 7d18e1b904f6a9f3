// GET /_matrix/client/v1/media/download/{serverName}/{mediaId}[/{fileName}]
// (authenticated, spec v1.11) and the legacy unauthenticated
// /_matrix/media/{v3,r0}/download/... (behind media.legacy_endpoints).
//
// The bytes are streamed from the media store (Response::streamed) with a
// fixed-size buffer, never held whole. Single byte ranges are served (206);
// see media/byte_range.h. The safety headers come from media/content_headers.h.
#include "client/auth.h"
#include "client/media.h"
#include "client/media_response.h"
#include "config/config.h"
#include "config/media_keys.h"
#include "media/byte_range.h"
#include "media/content_headers.h"
#include "media/media_id.h"
#include "media/media_service.h"

namespace eltrix::client {

namespace {

/// The response for media that is uploaded (504 M_NOT_YET_UPLOADED while
/// pending, 404 if unknown). Owns its arguments: it may run later, on
/// another worker, once a parked download's upload arrived.
http::Response download_response(Context& ctx, const std::string& server,
                                 const std::string& media_id, std::string file_name,
                                 const std::optional<std::string>& range_header) {
  const media::MediaRecord record = ctx.media.find_uploaded(server, media_id);
  if (file_name.empty()) file_name = record.upload_name;

  const media::RangeRequest range = media::parse_range(range_header, record.size);
  if (range.kind == media::RangeRequest::Kind::unsatisfiable) {
    auto out = http::Response::error(
        http::MatrixError(416, "M_UNKNOWN", "The requested range is not satisfiable"));
    out.headers.emplace_back("Content-Range", "bytes */" + std::to_string(record.size));
    return out;
  }
  const bool partial = range.kind == media::RangeRequest::Kind::partial;
  const media::ByteRange bytes = partial ? range.range : media::ByteRange{0, record.size};
  auto source = ctx.media.open(media::media_key(server, media_id), bytes.offset, bytes.length);
  auto out = media_stream_response(partial ? 206 : 200, record.content_type, std::move(source),
                                   bytes.length);
  out.headers.emplace_back("Content-Disposition",
                           media::content_disposition(record.content_type, file_name));
  out.headers.emplace_back("Accept-Ranges", "bytes");
  if (partial) out.headers.emplace_back("Content-Range", media::content_range(bytes, record.size));
  return out;
}

http::Response download(Context& ctx, http::Request& req, bool named) {
  std::string server(req.path_param("serverName"));
  std::string media_id(req.path_param("mediaId"));
  std::string file_name;
  if (named) {
    file_name = std::string(req.path_param("fileName"));
    if (!media::is_acceptable_file_name(file_name)) {
      throw http::MatrixError(400, "M_INVALID_PARAM",
                              "The file name must be 1-255 bytes of UTF-8 without control "
                              "characters, '/' or '\\'");
    }
  }
  std::optional<std::string> range_header = req.header("Range");
  return when_uploaded(ctx, req, media_id,
                       [&ctx, server, media_id, file_name = std::move(file_name),
                        range_header = std::move(range_header)] {
                         return download_response(ctx, server, media_id, file_name, range_header);
                       });
}

}  // namespace

bool media_legacy_endpoints(const Context& ctx) {
  return ctx.config.get_bool(config::keys::kMediaLegacyEndpoints, true);
}

void add_media_download_routes(http::Router& router, Context& ctx) {
  const std::string v1 = "/_matrix/client/v1/media/download/{serverName}/{mediaId}";
  router.add("GET", v1, [&ctx](http::Request& req) { return download(ctx, req, false); });
  router.add("GET", v1 + "/{fileName}",
             [&ctx](http::Request& req) { return download(ctx, req, true); });
  if (!media_legacy_endpoints(ctx)) return;
  for (const char* prefix : {"/_matrix/media/v3", "/_matrix/media/r0"}) {
    const std::string legacy = std::string(prefix) + "/download/{serverName}/{mediaId}";
    router.add("GET", legacy, [&ctx](http::Request& req) { return download(ctx, req, false); },
               {.auth = http::Auth::none});
    router.add("GET", legacy + "/{fileName}",
               [&ctx](http::Request& req) { return download(ctx, req, true); },
               {.auth = http::Auth::none});
  }
}

}  // namespace eltrix::client
