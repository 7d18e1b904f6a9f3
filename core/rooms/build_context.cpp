#include "rooms/build_context.h"

#include <map>

namespace eltrix::rooms {

namespace {

// Every part has read_event()'s columns (kEventColumns), then the state
// group after the event and a tag naming the part. An extremity's PDU is not
// needed: NULL there, so nothing is parsed for it; its slot holds the rest
// (D38), so the events table is not read for it.
constexpr int kStateAfter = 9;
constexpr int kTag = 10;
std::string build_context_sql() {
  std::string sql =
      "(SELECT f.stream_ordering, f.event_id, NULL::text, NULL::text, NULL::text, "
      "NULL::text, NULL::text, f.depth, NULL::bigint, f.state_after, 'x' "
      "FROM room_extremity_slots f WHERE f.room_id = $1 AND f.event_id IS NOT NULL "
      "ORDER BY f.depth DESC, f.stream_ordering DESC LIMIT ";
  sql += std::to_string(kMaxPrevEvents);
  sql += ") UNION ALL (SELECT ";
  sql += kEventColumns;
  sql += ", NULL::bigint, 'a' FROM current_state cs JOIN ";
  sql += kEventJoin;
  sql +=
      " ON e.event_id = cs.event_id WHERE cs.room_id = $1 AND (cs.type, cs.state_key) IN "
      "(SELECT * FROM unnest($2::text[], $3::text[]))) "
      "UNION ALL (SELECT e.stream_ordering, e.event_id, NULL::text, NULL::text, NULL::text, "
      "NULL::text, NULL::text, e.depth, e.state_before, NULL::bigint, 't' "
      "FROM event_transactions t "
      "JOIN events e ON e.event_id = t.event_id WHERE t.user_id = $4 AND t.device_id = $5 "
      "AND t.endpoint = $6 AND t.txn_id = $7)";
  return sql;
}

std::vector<std::optional<std::string>> build_context_params(
    const std::vector<std::pair<std::string, std::string>>& auth_keys,
    const std::optional<Transaction>& txn, const std::string& sender) {
  std::vector<std::string> types;
  std::vector<std::string> state_keys;
  for (const auto& [type, state_key] : auth_keys) {
    types.push_back(type);
    state_keys.push_back(state_key);
  }
  return {pg_text_array(types),
          pg_text_array(state_keys),
          txn ? std::optional(sender) : std::nullopt,
          txn ? std::optional(txn->device_id) : std::nullopt,
          txn ? std::optional(txn->endpoint) : std::nullopt,
          txn ? std::optional(txn->txn_id) : std::nullopt};
}

/// The rows of build_context_sql(), from column `offset` on; a row whose
/// tag is NULL (an outer join that found nothing) is skipped.
BuildContext parse_build_context(
    const pqxx::result& rows, int offset,
    const std::vector<std::pair<std::string, std::string>>& auth_keys) {
  BuildContext out;
  std::map<std::pair<std::string, std::string>, StoredEvent> auth;
  for (const auto& full : rows) {
    if (full[offset + kTag].is_null()) continue;
    const pqxx::row row = full.slice(offset, offset + kTag + 1);
    const std::string_view tag = row[kTag].c_str();
    if (tag == "x") {
      out.extremities.push_back({row[1].as<std::string>(), row[7].as<std::int64_t>(),
                                 storage::nullable<std::int64_t>(row[kStateAfter])});
    } else if (tag == "a") {
      StoredEvent event = read_event(row);
      auto key = std::make_pair(event.type(), event.state_key());
      auth.emplace(std::move(key), std::move(event));
    } else {
      out.earlier = SentEvent{row[1].as<std::string>(), row[0].as<std::int64_t>()};
    }
  }
  for (const auto& key : auth_keys) {
    if (auto it = auth.find(key); it != auth.end())
      out.auth_events.push_back(std::move(it->second));
  }
  return out;
}

}  // namespace

BuildContext read_build_context(storage::Transaction& tx, const std::string& room_id,
                                const std::vector<std::pair<std::string, std::string>>& auth_keys,
                                const std::optional<Transaction>& txn, const std::string& sender) {
  static const std::string sql = build_context_sql();
  const auto params = build_context_params(auth_keys, txn, sender);
  const pqxx::result rows =
      tx.exec(sql, room_id, params[0], params[1], params[2], params[3], params[4], params[5]);
  return parse_build_context(rows, 0, auth_keys);
}

storage::FirstStatement lock_room_and_read_build_context(
    const std::string& room_id, RoomLock lock,
    const std::vector<std::pair<std::string, std::string>>& auth_keys,
    const std::optional<Transaction>& txn, const std::string& sender) {
  static const std::string sql =
      "SELECT r.room_version, r.creator, b.* FROM (SELECT 1) one "
      "LEFT JOIN rooms r ON r.room_id = $1 LEFT JOIN (" +
      build_context_sql() + ") b ON true";
  return lock_room_statement(room_id, lock, sql, build_context_params(auth_keys, txn, sender));
}

BuildContext locked_build_context(
    const storage::Transaction& tx,
    const std::vector<std::pair<std::string, std::string>>& auth_keys) {
  // Column 0 is the transaction ID, then the room's version and creator.
  return parse_build_context(tx.first_result(), 3, auth_keys);
}

}  // namespace eltrix::rooms
