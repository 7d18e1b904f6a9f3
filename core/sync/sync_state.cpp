#include "sync/sync_state.h"

#include "rooms/event_store.h"
#include "storage/database.h"
#include "storage/stream.h"

#include <algorithm>

namespace eltrix::sync {

SyncState::SyncState(const SyncDeps& deps, const SyncRequest& request, storage::Transaction& tx)
    : deps(deps), request(request), tx(tx), now_ms(rooms::now_ms()) {}

std::int64_t SyncState::stream_to() {
  if (!stream_to_) {
    stream_to_ = storage::current_stream(tx);
    if (request.since && request.since->stream > *stream_to_) tx.need_primary();
  }
  return *stream_to_;
}

std::int64_t SyncState::stream_from() {
  return request.since ? std::min(request.since->stream, stream_to()) : 0;
}

const std::vector<RoomMembership>& SyncState::memberships() {
  if (memberships_) return *memberships_;
  std::vector<RoomMembership> out;
  for (const auto& row :
       tx.exec("SELECT m.room_id, m.membership, m.stream_ordering, m.event_id, e.depth "
               "FROM room_memberships m JOIN events e ON e.event_id = m.event_id "
               "WHERE m.user_id = $1 AND NOT m.forgotten AND m.stream_ordering <= $2",
               user_id(), stream_to())) {
    RoomMembership m{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::int64_t>(),
                     row[3].as<std::string>(), row[4].as<std::int64_t>()};
    if (!request.filter.room.matches_room(m.room_id)) continue;
    if (m.membership == "join") joined_.push_back(m.room_id);
    out.push_back(std::move(m));
  }
  memberships_ = std::move(out);
  return *memberships_;
}

const std::vector<std::string>& SyncState::joined_rooms() {
  memberships();
  return joined_;
}

}  // namespace eltrix::sync
