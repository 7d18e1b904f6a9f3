// The content repository (spec: "Content repository"), by area:
//  - media_upload.cpp: POST /_matrix/media/v3/upload, POST /_matrix/media/v1/create,
//    PUT /_matrix/media/v3/upload/{serverName}/{mediaId};
//  - media_download.cpp: GET /_matrix/client/v1/media/download/... and the
//    legacy /_matrix/media/{v3,r0}/download/...;
//  - media_thumbnail.cpp: .../thumbnail/{serverName}/{mediaId};
//  - media_config.cpp: .../config.
// The legacy unauthenticated routes are registered only when
// media.legacy_endpoints is true; otherwise their paths are unknown (404
// M_UNRECOGNIZED, as the spec suggests for servers that drop them).
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_media_upload_routes(http::Router& router, Context& ctx);
void add_media_download_routes(http::Router& router, Context& ctx);
void add_media_thumbnail_routes(http::Router& router, Context& ctx);
void add_media_config_routes(http::Router& router, Context& ctx);

/// Whether the legacy unauthenticated media routes are served.
bool media_legacy_endpoints(const Context& ctx);

}  // namespace eltrix::client
