// History visibility: the spec's algorithm over the facts of one room and one
// user (matrix/history_visibility.h), without a database.
#include "matrix/history_visibility.h"

#include <catch2/catch.hpp>

using eltrix::matrix::event_visible;
using eltrix::matrix::HistoryFacts;
using eltrix::matrix::HistoryVisibility;
using eltrix::matrix::Membership;
using eltrix::matrix::parse_history_visibility;
using eltrix::matrix::parse_membership;
using eltrix::matrix::state_visible;
using nlohmann::json;

namespace {
HistoryFacts facts(HistoryVisibility rule, std::vector<std::pair<std::int64_t, Membership>> members,
                   bool joins_after = false) {
  HistoryFacts f;
  f.hi = 1000;
  f.visibility = {{5, rule}};
  f.membership = std::move(members);
  f.joins_after = joins_after;
  return f;
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
}

TEST_CASE("history visibility: joined hides what came before the join", "[matrix][visibility]") {
  auto f = facts(HistoryVisibility::joined, {{20, Membership::invite}, {30, Membership::join}});
  CHECK_FALSE(event_visible(f, 10));
  CHECK_FALSE(event_visible(f, 25));  // invited is not enough under "joined"
  CHECK(event_visible(f, 20));        // their own invite
  CHECK(event_visible(f, 30));        // their own join
  CHECK(event_visible(f, 31));
  // The state they joined against is theirs to see; older state is not.
  CHECK(state_visible(f, 29));
  CHECK_FALSE(state_visible(f, 28));
  CHECK_FALSE(state_visible(f, 10));
  CHECK(state_visible(f, 30));
}

TEST_CASE("history visibility: invited shows what came since the invite", "[matrix][visibility]") {
  auto f = facts(HistoryVisibility::invited, {{20, Membership::invite}, {30, Membership::join}});
  CHECK_FALSE(event_visible(f, 10));
  CHECK(event_visible(f, 21));
  CHECK(event_visible(f, 40));
}

TEST_CASE("history visibility: shared shows everything to whoever joins later",
          "[matrix][visibility]") {
  auto joined = facts(HistoryVisibility::shared, {{30, Membership::join}});
  CHECK(event_visible(joined, 1));
  CHECK(event_visible(joined, 29));
  CHECK(state_visible(joined, 10));
  // A former member sees up to their leave, and nothing after it.
  auto former = facts(HistoryVisibility::shared, {{30, Membership::join}, {50, Membership::leave}});
  CHECK(event_visible(former, 10));
  CHECK(event_visible(former, 49));
  CHECK(event_visible(former, 50));  // their own leave
  CHECK_FALSE(event_visible(former, 51));
  CHECK(state_visible(former, 49));
  CHECK_FALSE(state_visible(former, 50));
  // Someone who only knocked, was invited or was banned never joined.
  for (auto m : {Membership::knock, Membership::invite, Membership::ban}) {
    auto never = facts(HistoryVisibility::shared, {{30, m}, {40, Membership::leave}});
    if (m == Membership::ban) never.membership = {{30, Membership::ban}};
    CHECK_FALSE(event_visible(never, 10));
    CHECK_FALSE(event_visible(never, 35));
    CHECK(event_visible(never, 30));  // only their own membership events
    CHECK_FALSE(state_visible(never, 29));
    CHECK_FALSE(state_visible(never, 35));
    CHECK_FALSE(state_visible(never, 39));
  }
  // A join after the loaded range counts too.
  auto later = facts(HistoryVisibility::shared, {}, /*joins_after=*/true);
  CHECK(event_visible(later, 100));
}

TEST_CASE("history visibility: world_readable shows everything to everyone",
          "[matrix][visibility]") {
  auto f = facts(HistoryVisibility::world_readable, {});
  CHECK(event_visible(f, 6));
  CHECK(state_visible(f, 6));
  // Before the first history_visibility event the default is shared.
  CHECK_FALSE(event_visible(f, 4));
}

TEST_CASE("history visibility: the visibility in force at each event decides",
          "[matrix][visibility]") {
  HistoryFacts f;
  f.hi = 1000;
  f.visibility = {{5, HistoryVisibility::world_readable},
                  {20, HistoryVisibility::joined},
                  {40, HistoryVisibility::world_readable}};
  f.membership = {{60, Membership::join}};
  CHECK(event_visible(f, 10));
  CHECK_FALSE(event_visible(f, 30));
  CHECK(event_visible(f, 45));
  // The change itself is judged by the less restrictive of before and after.
  CHECK(event_visible(f, 20));
  CHECK(event_visible(f, 40));
  // The visibility in force before the range is the one passed before lo.
  HistoryFacts window;
  window.lo = 100;
  window.hi = 200;
  window.visibility = {{7, HistoryVisibility::joined}};
  CHECK_FALSE(event_visible(window, 150));
  window.visibility = {{7, HistoryVisibility::world_readable}};
  CHECK(event_visible(window, 150));
}
