// The stream position shared by every persistent stream a sync reads (see
// migrations/0002_streams_rooms_events.sql for why one row orders them all).
#pragma once

#include "storage/database.h"

#include <cstdint>

namespace eltrix::storage {

/// Claims the next position and row-locks stream_head until commit, so
/// positions commit in order. Call it after the transaction's slow work (its
/// reads and checks), then stamp the rows it writes with the result.
std::int64_t advance_stream(Transaction& tx);

/// The newest committed position visible to `tx`: every row stamped <= it is
/// visible too.
std::int64_t current_stream(Transaction& tx);

}  // namespace eltrix::storage
