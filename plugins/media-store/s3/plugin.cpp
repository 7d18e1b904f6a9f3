// media-store-s3 plugin entry: the descriptor and the keys it declares.
#include <eltrix/plugin/plugin.h>

#include "s3_media_store.h"

namespace {

using eltrix::plugin::ConfigKeySpec;
using eltrix::plugin::ConfigType;
using eltrix::plugin::kConfigRequired;
using eltrix::plugin::kConfigSecret;

constexpr ConfigKeySpec kKeys[] = {
    {.name = "s3.bucket",
     .type = ConfigType::string,
     .help = "S3 bucket for media and thumbnails (media.store = s3). Every node uses the same "
             "bucket.",
     .flags = kConfigRequired},
    {.name = "s3.region",
     .type = ConfigType::string,
     .default_value = "us-east-1",
     .help = "Region the requests are signed for (SigV4). S3-compatible servers usually accept "
             "us-east-1."},
    {.name = "s3.access_key",
     .type = ConfigType::string,
     .help = "Access key id of the S3 credentials.",
     .flags = kConfigRequired},
    {.name = "s3.secret_key",
     .type = ConfigType::string,
     .help = "Secret access key of the S3 credentials. Never logged or printed.",
     .flags = kConfigRequired | kConfigSecret},
    {.name = "s3.endpoint",
     .type = ConfigType::string,
     .help = "URL of an S3-compatible server (MinIO, ...), e.g. http://127.0.0.1:9000; objects "
             "are then addressed path-style (/<bucket>/<key>). Unset: AWS, virtual-host style "
             "(https://<bucket>.s3.<region>.amazonaws.com)."},
    {.name = "s3.prefix",
     .type = ConfigType::string,
     .help = "Prefix for every object key, ending in '/', e.g. eltrix/ to share a bucket with "
             "other data. Unset: keys start at the bucket's root."},
    {.name = "s3.part_size_mb",
     .type = ConfigType::integer,
     .default_value = "8",
     .help = "Multipart upload part size in MiB: larger uploads are sent in parts of this size, "
             "and it bounds the memory one upload uses.",
     .min_value = 5,
     .max_value = 5120},
    {.name = "s3.connect_timeout",
     .type = ConfigType::integer,
     .default_value = "5",
     .help = "Seconds to wait for a connection to S3.",
     .min_value = 1,
     .max_value = 300},
    {.name = "s3.request_timeout",
     .type = ConfigType::integer,
     .default_value = "30",
     .help = "Seconds a request to S3 may wait for each read or write on its connection (and "
             "for a free pooled connection).",
     .min_value = 1,
     .max_value = 3600},
    {.name = "s3.retries",
     .type = ConfigType::integer,
     .default_value = "3",
     .help = "Times a failed request to S3 (timeout, connection error, 5xx, 429/SlowDown) is "
             "sent again, with exponential backoff and jitter.",
     .min_value = 0,
     .max_value = 10},
    {.name = "s3.pool_size",
     .type = ConfigType::integer,
     .default_value = "32",
     .help = "Most connections to S3 open at once (kept alive and reused). A download holds one "
             "while it streams, so keep it near the number of media requests a node serves at "
             "once (http.workers is the ceiling); a request waits for a free one up to "
             "s3.request_timeout.",
     .min_value = 1,
     .max_value = 1024},
};

}  // namespace

ELTRIX_PLUGIN(media_store, "s3", "1.0.0", eltrix::media_s3::S3MediaStore, kKeys)
