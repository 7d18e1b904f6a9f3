// History visibility (Matrix spec, client-server API "History visibility"):
// which events of a room one user may see. Pure functions over the facts of
// one room and one user at one event or in one state of the room;
// rooms/visibility.h loads the facts (from the state at each event, the
// room's DAG, not from the order this server learned of events in) and is
// what every read path calls.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace eltrix::matrix {

/// The values of m.room.history_visibility, least restrictive first.
enum class HistoryVisibility { world_readable, shared, invited, joined };

/// content.history_visibility of an m.room.history_visibility event. Content
/// that is not one of the four values (a number, a missing key, an unknown
/// word: only another server can still send that, see state_content.h) reads
/// as "joined", the most private choice: a malformed event never opens
/// history. (Synapse reads such values as "shared"; decisions.md D-vis.)
HistoryVisibility parse_history_visibility(const nlohmann::json& content);
/// The default when a room has no m.room.history_visibility event (spec: shared).
inline constexpr HistoryVisibility kDefaultHistoryVisibility = HistoryVisibility::shared;

/// A user's membership as the visibility rules read it.
enum class Membership { none, join, invite, leave, ban, knock };
/// "join", "invite", ... ; anything else (including null) is `none`.
Membership parse_membership(std::string_view membership);

/// What one state of the room says for one user: the room's history
/// visibility and the user's membership in it (the defaults when the state
/// has no such event).
struct StateFacts {
  HistoryVisibility visibility = kDefaultHistoryVisibility;
  Membership membership = Membership::none;

  bool operator==(const StateFacts&) const = default;
};

/// What deciding on one event needs, for one user.
struct EventFacts {
  /// The state before the event (its place in the room's DAG, whenever this
  /// server learned of it).
  StateFacts before;
  /// Set when the event is the room's m.room.history_visibility event: the
  /// value it sets.
  std::optional<HistoryVisibility> sets_visibility;
  /// Set when the event is the user's own m.room.member event: the
  /// membership it sets.
  std::optional<Membership> sets_membership;
  /// The user joins the room at some point after the event (the "shared"
  /// rule).
  bool joins_later = false;
};

/// The state after the event: the state before it with its own change.
StateFacts state_after(const EventFacts& facts);

/// May the user see the event? The spec's algorithm, with the history
/// visibility and the user's membership in the state at the event (the
/// state after it, as Synapse reads it; for an ordinary event that is the
/// state before it):
///  1. world_readable: yes;
///  2. the user was joined: yes;
///  3. shared, and the user joins at some later point: yes;
///  4. invited, and the user was invited: yes;
///  5. otherwise no.
/// Two refinements: an m.room.history_visibility event is judged by the less
/// restrictive of the values before and after it (members see the change
/// that hides history from them), and the user's own m.room.member events are
/// always theirs to see (a user who knocked, was invited or was banned learns
/// that, and nothing else).
bool event_visible(const EventFacts& facts);

/// May the user see the room's state `state`? Yes when an ordinary event in
/// that state would be visible (`joins_later`: the user joins after it), and
/// also when the user's join is the next event (`joins_next`): a joining
/// user is given the state their join was made against.
bool state_visible(const StateFacts& state, bool joins_later, bool joins_next = false);

}  // namespace eltrix::matrix
