// Gauges for the thumbnailer's process-wide decoding slots
// (media::thumbnail_activity()): how many decodes run, how many requests wait
// for a slot, and the limit. Refreshed at every /metrics render.
#pragma once

namespace eltrix::metrics {
class Registry;
}

namespace eltrix::media {

/// Registers eltrix_media_thumbnail_decodes_{running,waiting,limit} and the
/// collector that refreshes them. Once per registry.
void register_thumbnail_metrics(metrics::Registry& registry);

}  // namespace eltrix::media
