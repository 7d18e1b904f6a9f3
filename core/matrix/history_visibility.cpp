#include "matrix/history_visibility.h"

#include <algorithm>

namespace eltrix::matrix {

namespace {

/// The entry in force at `position` (the last one at or before it), or
/// nullptr when none is.
template <typename T>
const std::pair<std::int64_t, T>* at_or_before(const std::vector<std::pair<std::int64_t, T>>& list,
                                               std::int64_t position) {
  auto it = std::upper_bound(list.begin(), list.end(), position,
                             [](std::int64_t p, const auto& entry) { return p < entry.first; });
  return it == list.begin() ? nullptr : &*(it - 1);
}

HistoryVisibility visibility_at(const HistoryFacts& facts, std::int64_t position) {
  const auto* entry = at_or_before(facts.visibility, position);
  return entry ? entry->second : kDefaultHistoryVisibility;
}

Membership membership_at(const HistoryFacts& facts, std::int64_t position) {
  const auto* entry = at_or_before(facts.membership, position);
  return entry ? entry->second : Membership::none;
}

bool joins_later(const HistoryFacts& facts, std::int64_t position) {
  if (facts.joins_after) return true;
  return std::any_of(facts.membership.begin(), facts.membership.end(), [&](const auto& entry) {
    return entry.first > position && entry.second == Membership::join;
  });
}

/// Steps 1 to 5 of the spec's algorithm for an ordinary event.
bool plain_visible(const HistoryFacts& facts, std::int64_t position, HistoryVisibility rule) {
  if (rule == HistoryVisibility::world_readable) return true;
  const Membership membership = membership_at(facts, position);
  if (membership == Membership::join) return true;
  if (rule == HistoryVisibility::shared && joins_later(facts, position)) return true;
  return rule == HistoryVisibility::invited && membership == Membership::invite;
}

bool has_change_at(const auto& list, std::int64_t position) {
  const auto* entry = at_or_before(list, position);
  return entry != nullptr && entry->first == position;
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

bool event_visible(const HistoryFacts& facts, std::int64_t position) {
  if (has_change_at(facts.membership, position)) return true;  // the user's own membership
  HistoryVisibility rule = visibility_at(facts, position);
  if (has_change_at(facts.visibility, position)) {
    // The change itself: the less restrictive of before and after.
    rule = std::min(rule, visibility_at(facts, position - 1));
  }
  return plain_visible(facts, position, rule);
}

bool state_visible(const HistoryFacts& facts, std::int64_t position) {
  if (plain_visible(facts, position, visibility_at(facts, position))) return true;
  const auto* next = at_or_before(facts.membership, position + 1);
  return next != nullptr && next->first == position + 1 && next->second == Membership::join;
}

}  // namespace eltrix::matrix
