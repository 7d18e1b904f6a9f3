#include "rooms/visibility.h"

#include "rooms/state_groups.h"

#include <algorithm>
#include <limits>

namespace eltrix::rooms {

namespace {

/// The history visibility a stored PDU sets (its text, as stored). A PDU that
/// does not parse reads as content that is not valid: "joined".
matrix::HistoryVisibility visibility_of_pdu(const std::string& text) {
  auto pdu = nlohmann::json::parse(text, nullptr, false);
  if (pdu.is_discarded() || !pdu.is_object()) return matrix::HistoryVisibility::joined;
  auto it = pdu.find("content");
  return matrix::parse_history_visibility(it != pdu.end() ? *it : nlohmann::json());
}

}  // namespace

Visibility::Visibility(storage::Transaction& tx, std::string_view room_id, std::string_view user_id)
    : tx_(tx), room_id_(room_id), user_id_(user_id) {
  auto row = tx.exec1(
      "SELECT m.membership, m.stream_ordering, "
      "  (SELECT e.pdu FROM current_state cs JOIN events e ON e.event_id = cs.event_id "
      "   WHERE cs.room_id = $1 AND cs.type = 'm.room.history_visibility' "
      "     AND cs.state_key = ''), "
      "  EXISTS (SELECT 1 FROM events WHERE room_id = $1 AND type = 'm.room.member' "
      "          AND state_key = $2 AND membership = 'join') "
      "FROM (SELECT 1) AS one "
      "LEFT JOIN room_memberships m ON m.room_id = $1 AND m.user_id = $2",
      room_id, user_id);
  membership_ = storage::nullable<std::string>(row[0]).value_or("");
  membership_stream_ = storage::nullable<std::int64_t>(row[1]).value_or(0);
  if (auto pdu = storage::nullable<std::string>(row[2])) {
    world_readable_now_ = visibility_of_pdu(*pdu) == matrix::HistoryVisibility::world_readable;
  }
  ever_joined_ = row[3].as<bool>();
  summary_loaded_ = true;
}

Visibility::Visibility(storage::Transaction& tx, std::string_view room_id, std::string_view user_id,
                       std::string_view membership, std::int64_t membership_stream)
    : tx_(tx),
      room_id_(room_id),
      user_id_(user_id),
      membership_(membership),
      membership_stream_(membership_stream) {}

void Visibility::load_summary() {
  if (summary_loaded_) return;
  auto row = tx_.exec1(
      "SELECT (SELECT e.pdu FROM current_state cs JOIN events e ON e.event_id = cs.event_id "
      "        WHERE cs.room_id = $1 AND cs.type = 'm.room.history_visibility' "
      "          AND cs.state_key = ''), "
      "  EXISTS (SELECT 1 FROM events WHERE room_id = $1 AND type = 'm.room.member' "
      "          AND state_key = $2 AND membership = 'join')",
      room_id_, user_id_);
  if (auto pdu = storage::nullable<std::string>(row[0])) {
    world_readable_now_ = visibility_of_pdu(*pdu) == matrix::HistoryVisibility::world_readable;
  }
  ever_joined_ = row[1].as<bool>();
  summary_loaded_ = true;
}

bool Visibility::may_read_history() {
  if (membership_ == "join") return true;
  load_summary();
  return world_readable_now_ || ever_joined_;
}

void Visibility::prepare(std::int64_t lo, std::int64_t hi) {
  if (lo > hi || joined_since(lo) || covers(lo, hi)) return;
  // One statement, each part an index range scan (events_room_state): the
  // visibility and membership in force before lo, their changes in [lo, hi],
  // and whether the user joins after hi (the "shared" rule).
  auto rows = tx_.exec(
      "(SELECT 'v', stream_ordering, pdu FROM events WHERE room_id = $1 "
      "  AND type = 'm.room.history_visibility' AND state_key = '' AND stream_ordering < $3 "
      "  ORDER BY stream_ordering DESC LIMIT 1) "
      "UNION ALL (SELECT 'v', stream_ordering, pdu FROM events WHERE room_id = $1 "
      "  AND type = 'm.room.history_visibility' AND state_key = '' "
      "  AND stream_ordering BETWEEN $3 AND $4) "
      "UNION ALL (SELECT 'm', stream_ordering, membership FROM events WHERE room_id = $1 "
      "  AND type = 'm.room.member' AND state_key = $2 AND stream_ordering < $3 "
      "  ORDER BY stream_ordering DESC LIMIT 1) "
      "UNION ALL (SELECT 'm', stream_ordering, membership FROM events WHERE room_id = $1 "
      "  AND type = 'm.room.member' AND state_key = $2 AND stream_ordering BETWEEN $3 AND $4) "
      "UNION ALL (SELECT 'j', stream_ordering, NULL FROM events WHERE room_id = $1 "
      "  AND type = 'm.room.member' AND state_key = $2 AND membership = 'join' "
      "  AND stream_ordering > $4 LIMIT 1)",
      room_id_, user_id_, lo, hi);
  matrix::HistoryFacts facts;
  facts.lo = lo;
  facts.hi = hi;
  for (const auto& row : rows) {
    const auto kind = row[0].as<std::string>();
    const auto position = row[1].as<std::int64_t>();
    const auto data = storage::nullable<std::string>(row[2]);
    if (kind == "v") {
      facts.visibility.emplace_back(position, visibility_of_pdu(data.value_or("")));
    } else if (kind == "m") {
      facts.membership.emplace_back(position, matrix::parse_membership(data.value_or("")));
    } else {
      facts.joins_after = true;
    }
  }
  // The UNION keeps each part's order but the parts' order is not promised.
  auto by_position = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::sort(facts.visibility.begin(), facts.visibility.end(), by_position);
  std::sort(facts.membership.begin(), facts.membership.end(), by_position);
  facts_ = std::move(facts);
}

bool Visibility::can_see(const StoredEvent& event) {
  if (joined_since(event.stream)) return true;
  if (!covers(event.stream, event.stream)) prepare(event.stream, event.stream);
  return matrix::event_visible(*facts_, event.stream);
}

bool Visibility::can_see_state_at(std::int64_t position) {
  if (joined_since(position)) return true;
  if (position == kCurrentState) {
    if (membership_ == "join") return true;
    load_summary();
    return world_readable_now_;
  }
  if (!covers(position, position + 1)) prepare(position, position + 1);
  return matrix::state_visible(*facts_, position);
}

std::optional<std::int64_t> Visibility::state_position() {
  if (membership_ == "join") return kCurrentState;
  load_summary();
  if (world_readable_now_) return kCurrentState;
  // A former member reads the state as it was when they left, if they could
  // see the room just before leaving (they were joined, or it was readable).
  if ((membership_ == "leave" || membership_ == "ban") && ever_joined_ &&
      can_see_state_at(membership_stream_ - 1)) {
    return membership_stream_;
  }
  return std::nullopt;
}

std::vector<StoredEvent> member_events_at(storage::Transaction& tx, std::string_view room_id,
                                          const std::vector<std::string>& users,
                                          std::int64_t position) {
  if (users.empty()) return {};
  if (position == kCurrentState) {
    static const std::string current = select_events(
        "JOIN current_state cs ON cs.event_id = e.event_id WHERE cs.room_id = $1 "
        "AND cs.type = 'm.room.member' AND cs.state_key = ANY($2::text[]) "
        "ORDER BY e.stream_ordering");
    return read_events(tx.exec(current, room_id, pg_text_array(users)));
  }
  // The state as of that position, from its state group.
  const StateGroup group = state_group_at(tx, room_id, position);
  if (!group) return {};
  static const std::string at = select_events(
      "JOIN room_state_of_group($1) s ON s.event_id = e.event_id "
      "WHERE s.type = 'm.room.member' AND s.state_key = ANY($2::text[]) "
      "ORDER BY e.stream_ordering");
  return read_events(tx.exec(at, *group, pg_text_array(users)));
}

}  // namespace eltrix::rooms
