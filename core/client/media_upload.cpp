// POST /_matrix/media/v3/upload, POST /_matrix/media/v1/create and
// PUT /_matrix/media/v3/upload/{serverName}/{mediaId} (spec v1.11,
// "Content repository"). r0 aliases of the upload routes serve older clients
// (matrix-nio 0.20 uploads to /_matrix/media/r0/upload).
//
// The body is read as a stream (http::BodyMode::stream) with the route's limit
// set to media.max_upload_size, and goes straight to the media store; see
// media/upload_source.h.
#include "client/auth.h"
#include "client/media.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "media/content_headers.h"
#include "media/media_service.h"

namespace eltrix::client {

namespace {

media::UploadRequest upload_request(http::Request& req, const Requester& who) {
  media::UploadRequest out;
  out.uploader = who.user_id;
  // No Content-Type: stored as opaque bytes, which are then always served as
  // an attachment. A Content-Type that is not a media type at all is refused,
  // so that nothing odd is ever echoed back in a download's headers.
  if (auto type = req.header("Content-Type"); type && !type->empty()) {
    auto normalized = media::normalize_content_type(*type);
    if (!normalized) {
      throw http::MatrixError(400, "M_INVALID_PARAM",
                              "Content-Type is not a media type (expected type/subtype)");
    }
    out.content_type = std::move(*normalized);
  } else {
    out.content_type = "application/octet-stream";
  }
  if (auto name = req.query("filename"); name && !name->empty()) {
    if (!media::is_acceptable_file_name(*name)) {
      throw http::MatrixError(400, "M_INVALID_PARAM",
                              "filename must be 1-255 bytes of UTF-8 without control characters, "
                              "'/' or '\\'");
    }
    out.file_name = std::move(*name);
  }
  if (auto length = req.header("Content-Length")) {
    try {
      out.declared_size = std::stoull(*length);
    } catch (const std::exception&) {
      // The server has validated it already; a store only uses it as a hint.
    }
  }
  return out;
}

std::string content_uri(const Context& ctx, std::string_view media_id) {
  return "mxc://" + ctx.server_name + "/" + std::string(media_id);
}

http::Response upload(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const media::UploadRequest request = upload_request(req, who);
  media::UploadSource body(req.body_stream(), [&req] { return req.body_too_large(); });
  const std::string media_id = ctx.media.upload(request, body);
  return http::Response::json(200, nlohmann::json{{"content_uri", content_uri(ctx, media_id)}});
}

http::Response create(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  auto created = ctx.media.create(who.user_id);
  return http::Response::json(200,
                              nlohmann::json{{"content_uri", content_uri(ctx, created.media_id)},
                                             {"unused_expires_at", created.unused_expires_at}});
}

http::Response upload_to(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const media::UploadRequest request = upload_request(req, who);
  media::UploadSource body(req.body_stream(), [&req] { return req.body_too_large(); });
  ctx.media.upload_pending(request, req.path_param("serverName"), req.path_param("mediaId"), body);
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_media_upload_routes(http::Router& router, Context& ctx) {
  const http::RouteOptions streamed{
      .body = http::BodyMode::stream,
      .max_body = static_cast<std::size_t>(ctx.media.settings().max_upload_bytes)};
  for (const char* prefix : {"/_matrix/media/v3", "/_matrix/media/r0"}) {
    router.add(
        "POST", std::string(prefix) + "/upload",
        [&ctx](http::Request& req) { return upload(ctx, req); }, streamed);
    router.add(
        "PUT", std::string(prefix) + "/upload/{serverName}/{mediaId}",
        [&ctx](http::Request& req) { return upload_to(ctx, req); }, streamed);
  }
  router.add("POST", "/_matrix/media/v1/create",
             [&ctx](http::Request& req) { return create(ctx, req); });
}

}  // namespace eltrix::client
