#include "matrix/history_visibility.h"

#include <algorithm>

namespace eltrix::matrix {

namespace {

/// Steps 1 to 5 of the spec's algorithm for an ordinary event.
bool plain_visible(HistoryVisibility rule, Membership membership, bool joins_later) {
  if (rule == HistoryVisibility::world_readable) return true;
  if (membership == Membership::join) return true;
  if (rule == HistoryVisibility::shared && joins_later) return true;
  return rule == HistoryVisibility::invited && membership == Membership::invite;
}

}  // namespace

HistoryVisibility parse_history_visibility(const nlohmann::json& content) {
  if (!content.is_object()) return HistoryVisibility::joined;
  auto it = content.find("history_visibility");
  if (it == content.end() || !it->is_string()) return HistoryVisibility::joined;
  const auto& value = it->get_ref<const std::string&>();
  if (value == "world_readable") return HistoryVisibility::world_readable;
  if (value == "shared") return HistoryVisibility::shared;
  if (value == "invited") return HistoryVisibility::invited;
  return HistoryVisibility::joined;
}

Membership parse_membership(std::string_view membership) {
  if (membership == "join") return Membership::join;
  if (membership == "invite") return Membership::invite;
  if (membership == "leave") return Membership::leave;
  if (membership == "ban") return Membership::ban;
  if (membership == "knock") return Membership::knock;
  return Membership::none;
}

StateFacts state_after(const EventFacts& facts) {
  StateFacts after = facts.before;
  if (facts.sets_visibility) after.visibility = *facts.sets_visibility;
  if (facts.sets_membership) after.membership = *facts.sets_membership;
  return after;
}

bool event_visible(const EventFacts& facts) {
  if (facts.sets_membership) return true;  // the user's own membership
  const StateFacts after = state_after(facts);
  // A change of visibility: the less restrictive of before and after.
  const HistoryVisibility rule = std::min(facts.before.visibility, after.visibility);
  return plain_visible(rule, after.membership, facts.joins_later);
}

bool state_visible(const StateFacts& state, bool joins_later, bool joins_next) {
  return joins_next || plain_visible(state.visibility, state.membership, joins_later);
}

}  // namespace eltrix::matrix
