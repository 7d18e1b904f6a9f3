// Evaluating push rules against an event for one user (spec: client-server
// API, "Push Rules": "Conditions", "Actions" and the order of evaluation).
// Pure: the caller supplies what the conditions need to know about the room
// and the user. It decides whether an event notifies a member, and with
// what tweaks; unread counts, highlights, /notifications and the push
// gateway sender are built on it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::matrix {

/// What the conditions ask of the room and the user, besides the event.
struct PushContext {
  std::string user_id;
  /// The user's display name in the room; empty: none
  /// (contains_display_name then never matches).
  std::string display_name;
  /// Joined members (room_member_count).
  std::int64_t member_count = 0;
  /// The sender's power level, and the level a key of
  /// power_levels.notifications needs (sender_notification_permission):
  /// the power levels' "notifications" object, or null for the defaults.
  std::int64_t sender_power_level = 0;
  nlohmann::json notification_levels = nullptr;
};

struct PushDecision {
  bool notify = false;
  bool highlight = false;
  std::optional<std::string> sound;
  /// The rule that decided ("" when none matched), and its actions.
  std::string rule_id;
  std::string kind;
  nlohmann::json actions = nlohmann::json::array();
  /// Every set_tweak of the actions, e.g. {"sound": "default"}: what a push
  /// gateway is sent as the device's tweaks.
  nlohmann::json tweaks = nlohmann::json::object();
};

/// The first enabled rule of `ruleset` (merged: merge_push_rules()) whose
/// conditions match `event` (a client-format event), in the spec's order
/// (override, content, room, sender, underride), and what its actions say.
/// The user's own events never notify. Unknown condition kinds never match
/// (so a rule that needs them is skipped), as the spec asks.
PushDecision evaluate_push_rules(const nlohmann::json& ruleset, const nlohmann::json& event,
                                 const PushContext& context);

/// A dotted event property path split into its keys: '.' separates, "\."
/// is a literal dot and "\\" a backslash ("content.m\.relates_to" is
/// {"content", "m.relates_to"}). nullopt for a malformed path.
std::optional<std::vector<std::string>> split_property_path(std::string_view path);

/// The spec's glob (case-insensitive; '*' any run, '?' one character)
/// against the whole of `value`, or, with `words`, against any part of it
/// that starts and ends at a word boundary (content.body, display names).
bool push_glob_matches(std::string_view pattern, std::string_view value, bool words);

}  // namespace eltrix::matrix
