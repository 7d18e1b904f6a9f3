#include "storage/stream_changes.h"

namespace eltrix::storage {

std::vector<std::pair<std::string, std::int64_t>> stream_changes(Transaction& tx, std::int64_t from,
                                                                 std::int64_t to) {
  // The keys mirror what the writers notify (rooms/room_service_impl.cpp,
  // client/read_markers.cpp, account_data.cpp, presence.cpp, profile.cpp).
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& row :
       tx.exec("SELECT key, max(pos) FROM ("
               // new events (state and membership included) wake their room...
               " SELECT 'room:' || room_id AS key, stream_ordering AS pos FROM events"
               "  WHERE stream_ordering > $1 AND stream_ordering <= $2"
               // ...and a membership change wakes its target (invites)
               " UNION ALL SELECT 'user:' || state_key, stream_ordering FROM events"
               "  WHERE stream_ordering > $1 AND stream_ordering <= $2"
               "  AND type = 'm.room.member' AND state_key IS NOT NULL"
               " UNION ALL SELECT 'room:' || room_id, stream_position FROM receipts"
               "  WHERE stream_position > $1 AND stream_position <= $2"
               " UNION ALL SELECT 'user:' || user_id, stream_position FROM account_data"
               "  WHERE stream_position > $1 AND stream_position <= $2"
               // presence (and profile) changes wake the user and their rooms
               " UNION ALL SELECT 'user:' || user_id, stream_position FROM presence"
               "  WHERE stream_position > $1 AND stream_position <= $2"
               " UNION ALL SELECT 'room:' || m.room_id, p.stream_position FROM presence p"
               "  JOIN room_memberships m ON m.user_id = p.user_id AND m.membership = 'join'"
               "  WHERE p.stream_position > $1 AND p.stream_position <= $2"
               ") changes GROUP BY key",
               from, to)) {
    out.emplace_back(row[0].as<std::string>(), row[1].as<std::int64_t>());
  }
  return out;
}

}  // namespace eltrix::storage
