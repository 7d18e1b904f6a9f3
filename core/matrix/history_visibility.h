// History visibility (Matrix spec, client-server API "History visibility"):
// which events of a room one user may see. Pure functions over the facts of
// one room and one user in a range of positions; rooms/visibility.h loads the
// facts and is what every read path calls.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

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

/// What the rules need to decide for one user and one room, for events at
/// positions in [lo, hi] of a totally ordered stream. Each list holds the
/// changes at positions in [lo, hi] in ascending order, preceded by the
/// change in force before lo, if any (its position is then < lo).
struct HistoryFacts {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  /// m.room.history_visibility events of the room.
  std::vector<std::pair<std::int64_t, HistoryVisibility>> visibility;
  /// The user's own m.room.member events.
  std::vector<std::pair<std::int64_t, Membership>> membership;
  /// The user joins at some position after hi.
  bool joins_after = false;
};

/// May the user see the event at `position` (within [facts.lo, facts.hi])?
/// The spec's algorithm, with the history visibility and the user's
/// membership in force at the event (the state after it, as Synapse reads it):
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
bool event_visible(const HistoryFacts& facts, std::int64_t position);

/// May the user see the room's state after `position`? Yes when an ordinary
/// event there would be visible, and also just before each of the user's
/// joins (position + 1 is their join): a joining user is given the state
/// their join was made against.
bool state_visible(const HistoryFacts& facts, std::int64_t position);

}  // namespace eltrix::matrix
