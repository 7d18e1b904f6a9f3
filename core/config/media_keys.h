// The keys of the media repository (the store itself is configured by its
// plugin's keys, e.g. media.path for fs). Declared once here; read through
// config::Config.
#pragma once

#include "config/schema.h"

namespace eltrix::config {

/// Adds the media keys to `schema` (called by add_core_keys).
void add_media_keys(Schema& schema);

namespace keys {
inline constexpr const char* kMediaLegacyEndpoints = "media.legacy_endpoints";
inline constexpr const char* kMediaMaxPendingUploads = "media.max_pending_uploads";
inline constexpr const char* kMediaPendingUploadLifetime = "media.pending_upload_lifetime";
inline constexpr const char* kMediaThumbnailMaxSourceSize = "media.thumbnail_max_source_size";
inline constexpr const char* kMediaThumbnailMaxPixels = "media.thumbnail_max_pixels";
inline constexpr const char* kMediaOrphanSweepInterval = "media.orphan_sweep_interval";
inline constexpr const char* kMediaOrphanMinAge = "media.orphan_min_age";
}  // namespace keys

}  // namespace eltrix::config
