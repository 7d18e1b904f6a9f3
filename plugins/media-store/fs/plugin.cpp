// media-store-fs plugin entry: the descriptor and the keys it declares.
#include <eltrix/plugin/plugin.h>

#include "fs_media_store.h"

namespace {

using eltrix::plugin::ConfigKeySpec;
using eltrix::plugin::ConfigType;

constexpr ConfigKeySpec kKeys[] = {
    {.name = "media.path",
     .type = ConfigType::string,
     .default_value = "/var/lib/eltrix/media",
     .help = "Directory for uploaded media and thumbnails; created if missing. Every node must "
             "see the same directory (shared storage) when several nodes serve media."},
};

}  // namespace

ELTRIX_PLUGIN(media_store, "fs", "1.0.0", eltrix::media_fs::FsMediaStore, kKeys)
