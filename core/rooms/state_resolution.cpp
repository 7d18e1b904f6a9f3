#include "rooms/state_resolution.h"

#include <set>

namespace eltrix::rooms {

ResolvedState resolve_state(storage::Transaction& tx, std::string_view room_id,
                            const std::vector<std::string>& event_ids) {
  ResolvedState out;
  std::vector<StateGroup> groups;
  for (const auto& row : tx.exec("SELECT DISTINCT state_after FROM events WHERE room_id = $1 "
                                 "AND event_id = ANY($2::text[]) ORDER BY state_after",
                                 room_id, pg_text_array(event_ids))) {
    groups.push_back(storage::nullable<std::int64_t>(row[0]));
  }
  if (groups.size() <= 1) {
    if (!groups.empty()) out.group = groups.front();
    return out;
  }
  out.single = false;
  out.group = groups.front().has_value() ? groups.front() : groups.back();
  // The union, remembering every candidate per key.
  std::map<StateMap::key_type, std::set<std::string>> candidates;
  for (const auto& group : groups) {
    for (auto& [key, event_id] : state_map_of(tx, group)) candidates[key].insert(event_id);
  }
  std::vector<std::string> conflicted;
  for (const auto& [key, ids] : candidates) {
    if (ids.size() == 1) {
      out.state[key] = *ids.begin();
    } else {
      conflicted.insert(conflicted.end(), ids.begin(), ids.end());
    }
  }
  if (!conflicted.empty()) {
    // Latest in topological order first; the first seen per key wins.
    for (const auto& row :
         tx.exec("SELECT event_id, type, state_key FROM events WHERE event_id = ANY($1::text[]) "
                 "ORDER BY depth DESC, stream_ordering DESC",
                 pg_text_array(conflicted))) {
      out.state.try_emplace({row[1].as<std::string>(), row[2].as<std::string>()},
                            row[0].as<std::string>());
    }
  }
  return out;
}

StateGroup resolved_group(storage::Transaction& tx, std::string_view room_id,
                          const ResolvedState& resolved) {
  if (resolved.single) return resolved.group;
  return store_state_as_delta(tx, room_id, resolved.group, resolved.state);
}

}  // namespace eltrix::rooms
