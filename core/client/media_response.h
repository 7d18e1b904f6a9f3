// Pieces shared by the media download and thumbnail handlers.
#pragma once

#include "http/router.h"

#include <eltrix/plugin/media_store.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace eltrix::client {

/// A streamed response over a media-store stream of `length` bytes, with the
/// safety headers every media response carries (media::security_headers)
/// and a long private cache lifetime (media never changes once uploaded).
http::Response media_stream_response(int status, std::string content_type,
                                     std::unique_ptr<plugin::ByteSource> source,
                                     std::uint64_t length);

/// The timeout_ms query parameter (default 20 s): how long a download may
/// wait for a pending asynchronous upload. 400 M_INVALID_PARAM when malformed.
std::chrono::milliseconds download_wait(const http::Request& req);

struct Context;

/// `build()` now, unless it finds the media pending an upload (504
/// M_NOT_YET_UPLOADED) and the client is willing to wait (timeout_ms): then
/// the request parks without a thread until the upload arrives (or the wait
/// runs out, or too many wait: 504 at once), and `build()` runs again on a
/// worker thread. `build` must own what it uses (it outlives the request).
http::Response when_uploaded(Context& ctx, const http::Request& req, std::string_view media_id,
                             std::function<http::Response()> build);

}  // namespace eltrix::client
