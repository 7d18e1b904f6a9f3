// The process's open-file limit. Every connection is a descriptor, and a node
// parks up to http.max_parked of them (waiting syncs) besides those being
// served; the usual soft limit of 1024 would stop a hand-started node near
// 1,000 syncs. systemd units raise it (LimitNOFILE); a node started by hand
// raises its own soft limit to the hard limit at startup.
#pragma once

#include <cstdint>

namespace eltrix::app {

/// Raises RLIMIT_NOFILE's soft limit to its hard limit and logs the result;
/// warns when even the hard limit is below `wanted` descriptors (naming the
/// keys that drive it). Returns the soft limit now in force.
std::uint64_t raise_open_file_limit(std::uint64_t wanted);

}  // namespace eltrix::app
