// The room's topological order (its DAG: depth, then stream position as the
// tie-break), apart from the stream order (when this server learned of an
// event). /messages and /context page in topological order, so an event that
// arrives late with a low depth (backfill, a slow remote server) is found
// where it belongs in the history, not as the newest message. Sync follows
// the stream order.
//
// A topological pagination token is "t<depth>_<stream>" and names the gap
// just after that key. A stream token ("s<stream>", from a sync) is accepted
// too: it stands for the point after the deepest event learned by then.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::rooms {

struct TopologicalKey {
  std::int64_t depth = 0;
  std::int64_t stream = 0;
  friend auto operator<=>(const TopologicalKey&, const TopologicalKey&) = default;
};

std::string format_topological_token(const TopologicalKey& key);
/// nullopt unless `text` is a "t<depth>_<stream>" token.
std::optional<TopologicalKey> parse_topological_token(std::string_view text);

/// The key just after the deepest event of the room with stream position
/// <= `stream` (depth 0 when there is none).
TopologicalKey topological_at_stream(storage::Transaction& tx, std::string_view room_id,
                                     std::int64_t stream);

/// The last event of the room at or before `key` in topological order: the
/// event whose state is the room's state at a "t<depth>_<stream>" token
/// (GET /members?at=). nullopt before the room's first event.
struct TopologicalPoint {
  std::string event_id;
  std::int64_t stream = 0;
};
std::optional<TopologicalPoint> last_event_at_or_before(storage::Transaction& tx,
                                                        std::string_view room_id,
                                                        const TopologicalKey& key);

}  // namespace eltrix::rooms
