#include "rooms/visibility.h"

#include "rooms/state_groups.h"

#include <algorithm>

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

/// The room's visibility now ('v'), the user's joins ('j': depth, stream),
/// and with `membership` the user's membership now ('m': its event's depth
/// and stream), in one statement.
pqxx::result summary_rows(storage::Transaction& tx, std::string_view room_id,
                          std::string_view user_id, bool membership) {
  static const std::string base =
      "(SELECT 'v', 0::bigint, 0::bigint, e.pdu FROM current_state cs "
      "  JOIN events e ON e.event_id = cs.event_id "
      "  WHERE cs.room_id = $1 AND cs.type = 'm.room.history_visibility' AND cs.state_key = '') "
      "UNION ALL (SELECT 'j', depth, stream_ordering, NULL FROM events WHERE room_id = $1 "
      "  AND type = 'm.room.member' AND state_key = $2 AND membership = 'join')";
  static const std::string with_membership =
      base +
      " UNION ALL (SELECT 'm', e.depth, m.stream_ordering, m.membership FROM room_memberships m "
      "  JOIN events e ON e.event_id = m.event_id WHERE m.room_id = $1 AND m.user_id = $2)";
  return tx.exec(membership ? with_membership : base, room_id, user_id);
}

/// A PostgreSQL array literal of state group ids ($n::text[]::bigint[]).
std::string group_array(const std::vector<std::int64_t>& groups) {
  std::vector<std::string> texts;
  texts.reserve(groups.size());
  for (const std::int64_t group : groups) texts.push_back(std::to_string(group));
  return pg_text_array(texts);
}

}  // namespace

Visibility::Visibility(storage::Transaction& tx, std::string_view room_id, std::string_view user_id)
    : tx_(tx), room_id_(room_id), user_id_(user_id) {
  read_summary(summary_rows(tx, room_id, user_id, true));
}

Visibility::Visibility(storage::Transaction& tx, std::string_view room_id, std::string_view user_id,
                       std::string_view membership, std::int64_t membership_stream,
                       std::int64_t membership_depth)
    : tx_(tx),
      room_id_(room_id),
      user_id_(user_id),
      membership_(membership),
      membership_stream_(membership_stream),
      membership_depth_(membership_depth) {}

void Visibility::load_summary() {
  if (!summary_loaded_) read_summary(summary_rows(tx_, room_id_, user_id_, false));
}

void Visibility::read_summary(const pqxx::result& rows) {
  for (const auto& row : rows) {
    const auto kind = row[0].as<std::string>();
    if (kind == "v") {
      world_readable_now_ =
          visibility_of_pdu(row[3].as<std::string>()) == matrix::HistoryVisibility::world_readable;
    } else if (kind == "j") {
      joins_.push_back({row[1].as<std::int64_t>(), row[2].as<std::int64_t>()});
    } else {
      membership_depth_ = row[1].as<std::int64_t>();
      membership_stream_ = row[2].as<std::int64_t>();
      membership_ = row[3].as<std::string>();
    }
  }
  summary_loaded_ = true;
}

bool Visibility::may_read_history() {
  if (membership_ == "join") return true;
  load_summary();
  return world_readable_now_ || !joins_.empty();
}

void Visibility::prepare(const std::vector<StoredEvent>& events) {
  std::vector<std::int64_t> wanted;
  for (const auto& event : events) {
    if (joined_throughout(event) || !event.state_before) continue;
    if (groups_.count(*event.state_before) == 0) wanted.push_back(*event.state_before);
  }
  load_groups(wanted);
}

void Visibility::load_groups(const std::vector<std::int64_t>& groups) {
  if (groups.empty()) return;
  // Two keys of each state, not the whole state: each group's chain of
  // deltas (rooms/state_groups.h) once, shared tails walked once (UNION),
  // with the history visibility and the user's member event each group
  // itself names. The walk below takes, for each group, the nearest along its
  // chain.
  auto rows = tx_.exec(
      "WITH RECURSIVE chain (id, prev) AS ("
      "  SELECT id, prev_group FROM state_groups WHERE id = ANY($1::text[]::bigint[]) "
      "  UNION "
      "  SELECT s.id, s.prev_group FROM chain c JOIN state_groups s ON s.id = c.prev) "
      "SELECT c.id, c.prev, v.event_id IS NOT NULL, ve.pdu, m.event_id IS NOT NULL, me.membership "
      "  FROM chain c "
      "  LEFT JOIN state_group_entries v ON v.state_group = c.id "
      "    AND v.type = 'm.room.history_visibility' AND v.state_key = '' "
      "  LEFT JOIN events ve ON ve.event_id = v.event_id "
      "  LEFT JOIN state_group_entries m ON m.state_group = c.id "
      "    AND m.type = 'm.room.member' AND m.state_key = $2 "
      "  LEFT JOIN events me ON me.event_id = m.event_id",
      group_array(groups), user_id_);
  struct Link {
    std::optional<std::int64_t> prev;
    std::optional<matrix::HistoryVisibility> visibility;
    std::optional<matrix::Membership> membership;
  };
  std::map<std::int64_t, Link> links;
  for (const auto& row : rows) {
    Link link{storage::nullable<std::int64_t>(row[1]), std::nullopt, std::nullopt};
    if (row[2].as<bool>()) {
      link.visibility = visibility_of_pdu(storage::nullable<std::string>(row[3]).value_or(""));
    }
    if (row[4].as<bool>()) {
      link.membership =
          matrix::parse_membership(storage::nullable<std::string>(row[5]).value_or(""));
    }
    links[row[0].as<std::int64_t>()] = link;
  }
  for (const std::int64_t group : groups) {
    std::optional<matrix::HistoryVisibility> visibility;
    std::optional<matrix::Membership> membership;
    for (std::optional<std::int64_t> at = group; at && !(visibility && membership);) {
      auto it = links.find(*at);
      if (it == links.end()) break;
      if (!visibility) visibility = it->second.visibility;
      if (!membership) membership = it->second.membership;
      at = it->second.prev;
    }
    groups_[group] = {visibility.value_or(matrix::kDefaultHistoryVisibility),
                      membership.value_or(matrix::Membership::none)};
  }
}

matrix::StateFacts Visibility::facts_of(std::optional<std::int64_t> group) {
  if (!group) return {};  // the empty state, before m.room.create
  if (groups_.count(*group) == 0) load_groups({*group});
  return groups_.at(*group);
}

matrix::EventFacts Visibility::event_facts(const StoredEvent& event) {
  load_summary();
  matrix::EventFacts facts;
  facts.before = facts_of(event.state_before);
  const std::string& type = event.type();
  if (type == "m.room.history_visibility" && event.is_state() && event.state_key().empty()) {
    facts.sets_visibility =
        matrix::parse_history_visibility(event.pdu.value("content", nlohmann::json()));
  } else if (type == "m.room.member" && event.is_state() && event.state_key() == user_id_) {
    facts.sets_membership = matrix::parse_membership(event.membership());
  }
  // "Later" in the room's DAG: depth, then the stream order.
  facts.joins_later = std::any_of(joins_.begin(), joins_.end(), [&](const Join& join) {
    return std::pair(join.depth, join.stream) > std::pair(event.depth, event.stream);
  });
  return facts;
}

bool Visibility::can_see(const StoredEvent& event) {
  if (joined_throughout(event)) return true;
  return matrix::event_visible(event_facts(event));
}

bool Visibility::can_see_state_after(const StoredEvent& event) {
  if (joined_throughout(event)) return true;
  const auto facts = event_facts(event);
  return matrix::state_visible(matrix::state_after(facts), facts.joins_later);
}

bool Visibility::can_see_state_at(std::int64_t position) {
  if (joined_since(position)) return true;
  load_summary();
  if (position == kCurrentState) return membership_ == "join" || world_readable_now_;
  // The room's state as of a stream position (sync's order: what this server
  // had learned by then), and the user's joins in that same order.
  const matrix::StateFacts state = facts_of(state_group_at(tx_, room_id_, position));
  bool joins_later = false;
  bool joins_next = false;
  for (const Join& join : joins_) {
    joins_later = joins_later || join.stream > position;
    joins_next = joins_next || join.stream == position + 1;
  }
  return matrix::state_visible(state, joins_later, joins_next);
}

std::optional<std::int64_t> Visibility::state_position() {
  if (membership_ == "join") return kCurrentState;
  load_summary();
  if (world_readable_now_) return kCurrentState;
  // A former member reads the state as it was when they left, if they could
  // see the room just before leaving (they were joined, or it was readable).
  if ((membership_ == "leave" || membership_ == "ban") && !joins_.empty() &&
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
