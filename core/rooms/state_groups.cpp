#include "rooms/state_groups.h"

namespace eltrix::rooms {

namespace {

void insert_entries(storage::Transaction& tx, std::int64_t group, const StateMap& entries) {
  if (entries.empty()) return;
  std::vector<std::string> types;
  std::vector<std::string> keys;
  std::vector<std::string> ids;
  for (const auto& [key, event_id] : entries) {
    types.push_back(key.first);
    keys.push_back(key.second);
    ids.push_back(event_id);
  }
  tx.exec(
      "INSERT INTO state_group_entries (state_group, type, state_key, event_id) "
      "SELECT $1, t, k, e FROM unnest($2::text[], $3::text[], $4::text[]) AS u (t, k, e)",
      group, pg_text_array(types), pg_text_array(keys), pg_text_array(ids));
}

std::int64_t insert_group(storage::Transaction& tx, std::string_view room_id, StateGroup prev,
                          int chain_length) {
  return tx
      .exec1(
          "INSERT INTO state_groups (room_id, prev_group, chain_length) VALUES ($1, $2, $3) "
          "RETURNING id",
          room_id, prev, chain_length)[0]
      .as<std::int64_t>();
}

}  // namespace

StateGroup store_state_group(storage::Transaction& tx, std::string_view room_id, StateGroup base,
                             const StateMap& delta) {
  if (delta.empty()) return base;
  int chain = 0;
  if (base) {
    chain = tx.exec1("SELECT chain_length FROM state_groups WHERE id = $1", *base)[0].as<int>();
  }
  if (base && chain < kMaxStateChain) {
    const std::int64_t group = insert_group(tx, room_id, base, chain + 1);
    insert_entries(tx, group, delta);
    return group;
  }
  // No base, or the chain is long enough: a whole copy.
  StateMap whole = state_map_of(tx, base);
  for (const auto& [key, event_id] : delta) whole[key] = event_id;
  const std::int64_t group = insert_group(tx, room_id, std::nullopt, 0);
  insert_entries(tx, group, whole);
  return group;
}

StateGroup store_state_as_delta(storage::Transaction& tx, std::string_view room_id, StateGroup base,
                                const StateMap& state) {
  const StateMap old = state_map_of(tx, base);
  StateMap delta;
  for (const auto& [key, event_id] : state) {
    auto it = old.find(key);
    if (it == old.end() || it->second != event_id) delta[key] = event_id;
  }
  return store_state_group(tx, room_id, base, delta);
}

StateMap state_map_of(storage::Transaction& tx, StateGroup group) {
  StateMap out;
  if (!group) return out;
  for (const auto& row :
       tx.exec("SELECT type, state_key, event_id FROM room_state_of_group($1)", *group)) {
    out[{row[0].as<std::string>(), row[1].as<std::string>()}] = row[2].as<std::string>();
  }
  return out;
}

std::vector<StoredEvent> state_events_of(storage::Transaction& tx, StateGroup group) {
  if (!group) return {};
  static const std::string sql = select_events(
      "JOIN room_state_of_group($1) s ON s.event_id = e.event_id ORDER BY e.stream_ordering");
  return read_events(tx.exec(sql, *group));
}

std::optional<StoredEvent> state_event_of(storage::Transaction& tx, StateGroup group,
                                          std::string_view type, std::string_view state_key) {
  if (!group) return std::nullopt;
  static const std::string sql = select_events(
      "JOIN room_state_of_group($1) s ON s.event_id = e.event_id "
      "WHERE s.type = $2 AND s.state_key = $3");
  auto row = tx.exec_optional(sql, *group, type, state_key);
  if (!row) return std::nullopt;
  return read_event(*row);
}

StateGroup state_group_at(storage::Transaction& tx, std::string_view room_id,
                          std::int64_t position) {
  auto row = tx.exec_optional(
      "SELECT current_after FROM events WHERE room_id = $1 AND stream_ordering <= $2 "
      "ORDER BY stream_ordering DESC LIMIT 1",
      room_id, position);
  if (!row) return std::nullopt;
  return storage::nullable<std::int64_t>((*row)[0]);
}

std::optional<EventState> event_state(storage::Transaction& tx, std::string_view event_id) {
  auto row = tx.exec_optional("SELECT state_before, state_after FROM events WHERE event_id = $1",
                              event_id);
  if (!row) return std::nullopt;
  return EventState{storage::nullable<std::int64_t>((*row)[0]),
                    storage::nullable<std::int64_t>((*row)[1])};
}

}  // namespace eltrix::rooms
