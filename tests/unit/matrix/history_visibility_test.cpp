// History visibility: the spec's algorithm over the facts of one room and one
// user at one event or in one state (matrix/history_visibility.h), without a
// database.
#include "matrix/history_visibility.h"

#include <catch2/catch.hpp>

using eltrix::matrix::event_visible;
using eltrix::matrix::EventFacts;
using eltrix::matrix::HistoryVisibility;
using eltrix::matrix::Membership;
using eltrix::matrix::parse_history_visibility;
using eltrix::matrix::parse_membership;
using eltrix::matrix::state_after;
using eltrix::matrix::state_visible;
using eltrix::matrix::StateFacts;
using nlohmann::json;

namespace {
/// An ordinary event (a message) in a state saying `rule` and `membership`.
EventFacts message(HistoryVisibility rule, Membership membership, bool joins_later = false) {
  return {.before = {rule, membership}, .joins_later = joins_later};
}
/// The user's own m.room.member event setting `sets`.
EventFacts own_member(HistoryVisibility rule, Membership was, Membership sets) {
  return {.before = {rule, was}, .sets_membership = sets};
}
/// An m.room.history_visibility event changing `from` to `to`.
EventFacts visibility_change(HistoryVisibility from, HistoryVisibility to, Membership membership,
                             bool joins_later = false) {
  return {.before = {from, membership}, .sets_visibility = to, .joins_later = joins_later};
}
}  // namespace

TEST_CASE("history visibility: content parsing never throws and fails closed",
          "[matrix][visibility]") {
  CHECK(parse_history_visibility(json{{"history_visibility", "world_readable"}}) ==
        HistoryVisibility::world_readable);
  CHECK(parse_history_visibility(json{{"history_visibility", "shared"}}) ==
        HistoryVisibility::shared);
  CHECK(parse_history_visibility(json{{"history_visibility", "invited"}}) ==
        HistoryVisibility::invited);
  // Malformed content (only another server can still send it) is "joined".
  CHECK(parse_history_visibility(json{{"history_visibility", 5}}) == HistoryVisibility::joined);
  CHECK(parse_history_visibility(json{{"history_visibility", "everyone"}}) ==
        HistoryVisibility::joined);
  CHECK(parse_history_visibility(json::object()) == HistoryVisibility::joined);
  CHECK(parse_history_visibility(json::array()) == HistoryVisibility::joined);
  CHECK(parse_history_visibility(json()) == HistoryVisibility::joined);
  CHECK(parse_membership("join") == Membership::join);
  CHECK(parse_membership("") == Membership::none);
  CHECK(parse_membership("JOIN") == Membership::none);
  // A state with neither event: the default visibility, no membership.
  CHECK(StateFacts{} == StateFacts{HistoryVisibility::shared, Membership::none});
}

TEST_CASE("history visibility: joined hides what came before the join", "[matrix][visibility]") {
  const auto joined = HistoryVisibility::joined;
  // Before the invite, and while only invited: hidden, whatever comes later.
  CHECK_FALSE(event_visible(message(joined, Membership::none, /*joins_later=*/true)));
  CHECK_FALSE(event_visible(message(joined, Membership::invite, true)));
  // Their own invite and join.
  CHECK(event_visible(own_member(joined, Membership::none, Membership::invite)));
  CHECK(event_visible(own_member(joined, Membership::invite, Membership::join)));
  // Everything in a state where they are joined.
  CHECK(event_visible(message(joined, Membership::join)));
  // The state their join was made against is theirs to see; older state is not.
  CHECK(state_visible({joined, Membership::invite}, true, /*joins_next=*/true));
  CHECK_FALSE(state_visible({joined, Membership::invite}, true));
  CHECK_FALSE(state_visible({joined, Membership::none}, true));
  CHECK(state_visible({joined, Membership::join}, false));
}

TEST_CASE("history visibility: invited shows what came since the invite", "[matrix][visibility]") {
  const auto invited = HistoryVisibility::invited;
  CHECK_FALSE(event_visible(message(invited, Membership::none, true)));
  CHECK(event_visible(message(invited, Membership::invite)));
  CHECK(event_visible(message(invited, Membership::join)));
  CHECK_FALSE(event_visible(message(invited, Membership::leave)));
}

TEST_CASE("history visibility: shared shows everything to whoever joins later",
          "[matrix][visibility]") {
  const auto shared = HistoryVisibility::shared;
  CHECK(event_visible(message(shared, Membership::none, /*joins_later=*/true)));
  CHECK(state_visible({shared, Membership::none}, true));
  // A former member sees up to their leave, and nothing after it.
  CHECK(event_visible(message(shared, Membership::join)));
  CHECK(event_visible(own_member(shared, Membership::join, Membership::leave)));
  CHECK_FALSE(event_visible(message(shared, Membership::leave)));
  CHECK(state_visible({shared, Membership::join}, false));
  CHECK_FALSE(state_visible({shared, Membership::leave}, false));
  // Someone who only knocked, was invited or was banned never joined.
  for (auto m : {Membership::knock, Membership::invite, Membership::ban}) {
    CHECK_FALSE(event_visible(message(shared, Membership::none)));
    CHECK_FALSE(event_visible(message(shared, m)));
    CHECK(event_visible(own_member(shared, Membership::none, m)));  // only their own
    CHECK_FALSE(state_visible({shared, Membership::none}, false));
    CHECK_FALSE(state_visible({shared, m}, false));
  }
}

TEST_CASE("history visibility: world_readable shows everything to everyone",
          "[matrix][visibility]") {
  CHECK(event_visible(message(HistoryVisibility::world_readable, Membership::none)));
  CHECK(state_visible({HistoryVisibility::world_readable, Membership::none}, false));
  CHECK(event_visible(message(HistoryVisibility::world_readable, Membership::ban)));
}

TEST_CASE("history visibility: a change of visibility is judged by the less restrictive side",
          "[matrix][visibility]") {
  using V = HistoryVisibility;
  // Members see the change that hides history from them, and the one that opens it.
  CHECK(event_visible(visibility_change(V::world_readable, V::joined, Membership::none)));
  CHECK(event_visible(visibility_change(V::joined, V::world_readable, Membership::none)));
  CHECK_FALSE(event_visible(visibility_change(V::joined, V::invited, Membership::none)));
  CHECK(event_visible(visibility_change(V::joined, V::invited, Membership::invite)));
  CHECK(event_visible(visibility_change(V::joined, V::shared, Membership::none, true)));
  CHECK_FALSE(event_visible(visibility_change(V::joined, V::shared, Membership::none, false)));
}

TEST_CASE("history visibility: the state after an event carries its own change",
          "[matrix][visibility]") {
  using V = HistoryVisibility;
  const auto change = visibility_change(V::shared, V::joined, Membership::join);
  CHECK(state_after(change) == StateFacts{V::joined, Membership::join});
  const auto join = own_member(V::joined, Membership::invite, Membership::join);
  CHECK(state_after(join) == StateFacts{V::joined, Membership::join});
  CHECK(state_visible(state_after(join), false));
  // A ban: the user sees the event, and not the room around it.
  const auto ban = own_member(V::joined, Membership::invite, Membership::ban);
  CHECK(event_visible(ban));
  CHECK_FALSE(state_visible(state_after(ban), false));
  // A message changes nothing.
  CHECK(state_after(message(V::invited, Membership::invite)) ==
        StateFacts{V::invited, Membership::invite});
}
