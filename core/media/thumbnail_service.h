// Thumbnails of stored uploads: made once per standard size with the
// Thumbnailer (libvips), stored through the media-store plugin under
// thumbnail_key(), recorded in media_thumbnails, and reused from then on.
// Generation time goes to eltrix_media_thumbnail_seconds.
#pragma once

#include "media/media_service.h"
#include "media/thumbnailer.h"
#include "metrics/registry.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace eltrix::media {

std::string_view method_name(ThumbnailMethod method);

class ThumbnailService {
 public:
  ThumbnailService(MediaService& media, ThumbnailLimits limits, metrics::Registry& metrics);

  struct Served {
    std::string content_type;
    std::uint64_t size = 0;
    std::unique_ptr<plugin::ByteSource> body;
  };

  /// The standard-size thumbnail for a request of width x height by
  /// `method` (checked by the caller), made now if not stored yet. Errors:
  /// those of MediaService::find_uploaded, 400 M_UNKNOWN when the media is not
  /// an image this server can thumbnail (or cannot be decoded), 413
  /// M_TOO_LARGE over the source-size or pixel limits.
  /// Never waits for a pending upload (504 M_NOT_YET_UPLOADED): the handler
  /// parks the request first (MediaService::wait_for_upload).
  Served get(std::string_view server, std::string_view media_id, int width, int height,
             ThumbnailMethod method);

 private:
  Served generate(const MediaRecord& record, const ThumbnailSize& size, const std::string& key);

  MediaService& media_;
  Thumbnailer thumbnailer_;
  std::uint64_t max_source_bytes_;
  metrics::Histogram& seconds_;
  metrics::Counter& generated_;
  metrics::Counter& reused_;
};

}  // namespace eltrix::media
