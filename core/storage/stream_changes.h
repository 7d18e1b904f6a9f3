// Which notifier keys changed between two stream positions: the database's
// side of the recheck that keeps waiting syncs correct when a cluster
// wake-up is lost (notify/stream_recheck.h).
//
// Every table stamped with a stream position (see stream.h) must appear in
// stream_changes.cpp, with the keys its writers notify; a new stream (to-device
// messages, device lists) adds a line there.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace eltrix::storage {

/// (key, newest position of a change to it) for every room:/user: key whose
/// data changed in (from, to].
std::vector<std::pair<std::string, std::int64_t>> stream_changes(Transaction& tx, std::int64_t from,
                                                                 std::int64_t to);

}  // namespace eltrix::storage
