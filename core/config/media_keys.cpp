#include "config/media_keys.h"

namespace eltrix::config {

using plugin::ConfigKeySpec;
using plugin::ConfigType;

void add_media_keys(Schema& schema) {
  const ConfigKeySpec specs[] = {
      {.name = keys::kMediaLegacyEndpoints,
       .type = ConfigType::boolean,
       .default_value = "true",
       .help = "Also serve the unauthenticated /_matrix/media/v3 (and r0) download, thumbnail "
               "and config endpoints that clients before spec v1.11 use. When false they "
               "answer 404 M_UNRECOGNIZED and only /_matrix/client/v1/media/* serves media.",
       .env = "ELTRIX_MEDIA_LEGACY_ENDPOINTS"},
      {.name = keys::kMediaMaxPendingUploads,
       .type = ConfigType::integer,
       .default_value = "10",
       .help = "Media IDs a user may hold from /_matrix/media/v1/create without having "
               "uploaded to them yet; more get 429 M_LIMIT_EXCEEDED.",
       .env = "ELTRIX_MEDIA_MAX_PENDING_UPLOADS",
       .min_value = 1,
       .max_value = 10000},
      {.name = keys::kMediaPendingUploadLifetime,
       .type = ConfigType::integer,
       .default_value = "86400",
       .help = "Seconds a media ID from /_matrix/media/v1/create stays usable for its upload "
               "(unused_expires_at).",
       .env = "ELTRIX_MEDIA_PENDING_UPLOAD_LIFETIME",
       .min_value = 60,
       .max_value = 604800},
      {.name = keys::kMediaThumbnailMaxSourceSize,
       .type = ConfigType::integer,
       .default_value = "20",
       .help = "Largest upload, in megabytes, that thumbnails are made from (it is read into "
               "memory to decode); larger ones get 413 M_TOO_LARGE on /thumbnail.",
       .env = "ELTRIX_MEDIA_THUMBNAIL_MAX_SOURCE_SIZE",
       .min_value = 1,
       .max_value = 1024},
      {.name = keys::kMediaThumbnailMaxPixels,
       .type = ConfigType::integer,
       .default_value = "32000000",
       .help = "Largest image, in pixels (width x height from its header), that thumbnails are "
               "made from; a decompression bomb is refused before decoding (413 M_TOO_LARGE).",
       .env = "ELTRIX_MEDIA_THUMBNAIL_MAX_PIXELS",
       .min_value = 1,
       .max_value = 1000000000},
      {.name = keys::kMediaOrphanSweepInterval,
       .type = ConfigType::integer,
       .default_value = "21600",
       .help = "Seconds between sweeps of orphaned media: uploads a crash left unfinished "
               "(temporary files, incomplete multipart uploads) and stored objects that have no "
               "media row. Also swept shortly after start-up. With a shared media store one "
               "node per interval sweeps (a lease in the database). 0 disables the sweep.",
       .env = "ELTRIX_MEDIA_ORPHAN_SWEEP_INTERVAL",
       .min_value = 0,
       .max_value = 2592000},
      {.name = keys::kMediaOrphanMinAge,
       .type = ConfigType::integer,
       .default_value = "3600",
       .help = "Seconds an unfinished upload or an object without a media row must have been "
               "left alone before the sweep removes it, so that uploads still in progress (on "
               "any node) are never touched.",
       .env = "ELTRIX_MEDIA_ORPHAN_MIN_AGE",
       .min_value = 1,
       .max_value = 31536000},
  };
  for (const auto& spec : specs) schema.add(spec, "core");
}

}  // namespace eltrix::config
