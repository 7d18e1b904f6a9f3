#include "media/thumbnail_metrics.h"

#include "media/thumbnailer.h"
#include "metrics/registry.h"

namespace eltrix::media {

void register_thumbnail_metrics(metrics::Registry& registry) {
  auto& running = registry.gauge("eltrix_media_thumbnail_decodes_running",
                                 "Images being decoded for thumbnails now.");
  auto& waiting = registry.gauge("eltrix_media_thumbnail_decodes_waiting",
                                 "Thumbnail requests waiting for a decoding slot.");
  auto& limit = registry.gauge("eltrix_media_thumbnail_decodes_limit",
                               "Decoding slots: at most this many images are decoded at once "
                               "(one per CPU, at least 2).");
  registry.add_collector([&running, &waiting, &limit] {
    const ThumbnailActivity now = thumbnail_activity();
    running.set(now.running);
    waiting.set(now.waiting);
    limit.set(now.limit);
  });
}

}  // namespace eltrix::media
