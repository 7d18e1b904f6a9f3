#include "matrix/push_rules.h"

#include "matrix/ids.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>

namespace eltrix::matrix {

using nlohmann::json;

namespace {

constexpr std::string_view kMaster = ".m.rule.master";
constexpr std::size_t kMaxRuleIdBytes = 255;
/// Canonical JSON integers (spec: event_property_is "only supports
/// non-compound canonical JSON values").
constexpr std::int64_t kMaxCanonicalInt = (std::int64_t{1} << 53) - 1;

// ---- Building blocks of the predefined rules -------------------------------------

json event_match(std::string_view key, std::string_view pattern) {
  return {{"kind", "event_match"}, {"key", key}, {"pattern", pattern}};
}

json property_is(std::string_view key, json value) {
  return {{"kind", "event_property_is"}, {"key", key}, {"value", std::move(value)}};
}

json room_member_count(std::string_view is) {
  return {{"kind", "room_member_count"}, {"is", is}};
}

json sender_notification_permission(std::string_view key) {
  return {{"kind", "sender_notification_permission"}, {"key", key}};
}

json sound(std::string_view value) {
  return {{"set_tweak", "sound"}, {"value", value}};
}

json highlight() {
  return {{"set_tweak", "highlight"}};
}

json default_rule(std::string_view rule_id, bool enabled, json conditions, json actions) {
  return {{"rule_id", rule_id},
          {"default", true},
          {"enabled", enabled},
          {"conditions", std::move(conditions)},
          {"actions", std::move(actions)}};
}

/// The localpart of `user_id`; for an ID that does not parse (never one of
/// ours), whatever lies between the sigil and the first ':'.
std::string localpart_of(std::string_view user_id) {
  if (auto parsed = parse_user_id(user_id)) return parsed->localpart;
  if (!user_id.empty() && user_id.front() == '@') user_id.remove_prefix(1);
  return std::string(user_id.substr(0, user_id.find(':')));
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

json& kind_list(json& rules, std::string_view kind) {
  return rules.at("global").at(std::string(kind));
}

/// Index of the rule with `rule_id` in `list`; with `user_only`, only a
/// user-defined rule counts.
std::optional<std::size_t> index_of(const json& list, std::string_view rule_id, bool user_only) {
  if (user_only && is_server_default_rule_id(rule_id)) return std::nullopt;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json* id = member(list[i], "rule_id");
    if (id != nullptr && id->is_string() && id->get_ref<const std::string&>() == rule_id) return i;
  }
  return std::nullopt;
}

/// A stored user rule in the shape make_user_rule() writes, or nullopt when
/// it is malformed: merging must not let a damaged rule notify on everything
/// (a rule whose conditions are lost would match every event).
std::optional<json> normalised_user_rule(std::string_view kind, const json& stored,
                                         const std::string& rule_id) {
  const json* actions = member(stored, "actions");
  if (actions == nullptr || !actions->is_array()) return std::nullopt;
  const json* enabled = member(stored, "enabled");
  json out{{"rule_id", rule_id},
           {"default", false},
           {"enabled", enabled != nullptr && enabled->is_boolean() ? enabled->get<bool>() : true},
           {"actions", *actions}};
  if (kind == "override" || kind == "underride") {
    const json* conditions = member(stored, "conditions");
    if (conditions == nullptr || !conditions->is_array()) return std::nullopt;
    out["conditions"] = *conditions;
  } else if (kind == "content") {
    const json* pattern = member(stored, "pattern");
    if (pattern == nullptr || !pattern->is_string()) return std::nullopt;
    out["pattern"] = *pattern;
  }
  return out;
}

[[noreturn]] void bad_json(const std::string& message) {
  throw PushRuleError("M_BAD_JSON", message);
}
[[noreturn]] void invalid(const std::string& message) {
  throw PushRuleError("M_INVALID_PARAM", message);
}

const json& require_string(const json& object, std::string_view field, std::string_view where) {
  const json* value = member(object, field);
  if (value == nullptr) {
    throw PushRuleError("M_MISSING_PARAM", fmt::format("{} requires '{}'", where, field));
  }
  if (!value->is_string()) bad_json(fmt::format("'{}' of {} must be a string", field, where));
  return *value;
}

/// A decimal integer optionally prefixed by ==, <, >, >= or <=.
bool is_member_count(std::string_view is) {
  for (std::string_view prefix : {"==", "<=", ">=", "<", ">"}) {
    if (is.substr(0, prefix.size()) == prefix) {
      is.remove_prefix(prefix.size());
      break;
    }
  }
  return !is.empty() && is.size() <= 18 &&
         std::all_of(is.begin(), is.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_canonical_scalar(const json& value) {
  if (value.is_string() || value.is_boolean() || value.is_null()) return true;
  if (value.is_number_unsigned()) return value.get<std::uint64_t>() <= kMaxCanonicalInt;
  if (value.is_number_integer()) {
    auto v = value.get<std::int64_t>();
    return v >= -kMaxCanonicalInt && v <= kMaxCanonicalInt;
  }
  return false;
}

/// Known condition kinds must carry their parameters; unknown kinds are
/// stored as they are, since the spec has them simply never match.
void check_condition(const json& condition) {
  if (!condition.is_object()) bad_json("each condition must be an object");
  const std::string& kind = require_string(condition, "kind", "a condition");
  const std::string where = fmt::format("a {} condition", kind);
  if (kind == "event_match") {
    require_string(condition, "key", where);
    require_string(condition, "pattern", where);
  } else if (kind == "event_property_is" || kind == "event_property_contains") {
    require_string(condition, "key", where);
    const json* value = member(condition, "value");
    if (value == nullptr) {
      throw PushRuleError("M_MISSING_PARAM", fmt::format("{} requires 'value'", where));
    }
    if (!is_canonical_scalar(*value)) {
      invalid(
          fmt::format("'value' of {} must be a string, boolean, null or an integer within "
                      "the canonical JSON range",
                      where));
    }
  } else if (kind == "room_member_count") {
    if (!is_member_count(require_string(condition, "is", where).get_ref<const std::string&>())) {
      invalid(
          "'is' of a room_member_count condition must be a decimal integer, optionally "
          "prefixed by ==, <, >, >= or <=");
    }
  } else if (kind == "sender_notification_permission") {
    require_string(condition, "key", where);
  }
}

}  // namespace

bool is_push_rule_kind(std::string_view kind) {
  return std::find(kPushRuleKinds.begin(), kPushRuleKinds.end(), kind) != kPushRuleKinds.end();
}

bool is_server_default_rule_id(std::string_view rule_id) {
  return !rule_id.empty() && rule_id.front() == '.';
}

json default_push_rules(std::string_view user_id) {
  const json notify_sound = {"notify", sound("default")};
  const json notify_sound_highlight = {"notify", sound("default"), highlight()};
  const json notify_highlight = {"notify", highlight()};
  const json none = json::array();

  json override_rules = json::array({
      default_rule(kMaster, false, json::array(), none),
      default_rule(".m.rule.suppress_notices", true,
                   json::array({event_match("content.msgtype", "m.notice")}), none),
      default_rule(".m.rule.invite_for_me", true,
                   json::array({event_match("type", "m.room.member"),
                                event_match("content.membership", "invite"),
                                event_match("state_key", user_id)}),
                   notify_sound),
      default_rule(".m.rule.member_event", true,
                   json::array({event_match("type", "m.room.member")}), none),
      default_rule(".m.rule.is_user_mention", true,
                   json::array({{{"kind", "event_property_contains"},
                                 {"key", "content.m\\.mentions.user_ids"},
                                 {"value", user_id}}}),
                   notify_sound_highlight),
      default_rule(".m.rule.contains_display_name", true,
                   json::array({{{"kind", "contains_display_name"}}}), notify_sound_highlight),
      default_rule(".m.rule.is_room_mention", true,
                   json::array({property_is("content.m\\.mentions.room", true),
                                sender_notification_permission("room")}),
                   notify_highlight),
      default_rule(".m.rule.roomnotif", true,
                   json::array({event_match("content.body", "@room"),
                                sender_notification_permission("room")}),
                   notify_highlight),
      default_rule(
          ".m.rule.tombstone", true,
          json::array({event_match("type", "m.room.tombstone"), event_match("state_key", "")}),
          notify_highlight),
      default_rule(".m.rule.reaction", true, json::array({event_match("type", "m.reaction")}),
                   none),
      default_rule(
          ".m.rule.room.server_acl", true,
          json::array({event_match("type", "m.room.server_acl"), event_match("state_key", "")}),
          none),
      default_rule(".m.rule.suppress_edits", true,
                   json::array({property_is("content.m\\.relates_to.rel_type", "m.replace")}),
                   none),
  });

  // Content rules have a pattern instead of conditions.
  json content_rules = json::array({{{"rule_id", ".m.rule.contains_user_name"},
                                     {"default", true},
                                     {"enabled", true},
                                     {"pattern", localpart_of(user_id)},
                                     {"actions", notify_sound_highlight}}});

  json underride_rules = json::array({
      default_rule(".m.rule.call", true, json::array({event_match("type", "m.call.invite")}),
                   json::array({"notify", sound("ring")})),
      default_rule(".m.rule.encrypted_room_one_to_one", true,
                   json::array({room_member_count("2"), event_match("type", "m.room.encrypted")}),
                   notify_sound),
      default_rule(".m.rule.room_one_to_one", true,
                   json::array({room_member_count("2"), event_match("type", "m.room.message")}),
                   notify_sound),
      default_rule(".m.rule.message", true, json::array({event_match("type", "m.room.message")}),
                   json::array({"notify"})),
      default_rule(".m.rule.encrypted", true,
                   json::array({event_match("type", "m.room.encrypted")}), json::array({"notify"})),
  });

  return {{"global",
           {{"override", std::move(override_rules)},
            {"content", std::move(content_rules)},
            {"room", json::array()},
            {"sender", json::array()},
            {"underride", std::move(underride_rules)}}}};
}

json merge_push_rules(const json& stored, std::string_view user_id) {
  json merged = default_push_rules(user_id);
  const json* stored_global = member(stored, "global");
  for (std::string_view kind : kPushRuleKinds) {
    json& defaults = kind_list(merged, kind);
    const json* stored_list = stored_global != nullptr ? member(*stored_global, kind) : nullptr;

    json user_rules = json::array();
    std::map<std::string, const json*, std::less<>> default_overrides;
    std::set<std::string, std::less<>> seen;
    if (stored_list != nullptr && stored_list->is_array()) {
      for (const json& entry : *stored_list) {
        const json* id = member(entry, "rule_id");
        if (id == nullptr || !id->is_string()) continue;
        const auto& rule_id = id->get_ref<const std::string&>();
        if (rule_id.empty() || !seen.insert(rule_id).second) continue;
        if (is_server_default_rule_id(rule_id)) {
          default_overrides.emplace(rule_id, &entry);
        } else if (auto normalised = normalised_user_rule(kind, entry, rule_id)) {
          user_rules.push_back(std::move(*normalised));
        }
      }
    }

    json list = json::array();
    std::size_t next_default = 0;
    for (json& rule : defaults) {
      auto it = default_overrides.find(rule.at("rule_id").get_ref<const std::string&>());
      if (it != default_overrides.end()) {
        const json* enabled = member(*it->second, "enabled");
        if (enabled != nullptr && enabled->is_boolean()) rule["enabled"] = *enabled;
        const json* actions = member(*it->second, "actions");
        if (actions != nullptr && actions->is_array()) rule["actions"] = *actions;
      }
    }
    // The master rule outranks even user rules (spec: "Predefined Rules").
    if (!defaults.empty() && defaults[0].at("rule_id").get_ref<const std::string&>() == kMaster) {
      list.push_back(std::move(defaults[0]));
      next_default = 1;
    }
    for (json& rule : user_rules) list.push_back(std::move(rule));
    for (std::size_t i = next_default; i < defaults.size(); ++i) {
      list.push_back(std::move(defaults[i]));
    }
    defaults = std::move(list);
  }
  return merged;
}

const json* find_push_rule(const json& rules, std::string_view kind, std::string_view rule_id) {
  const json* global = member(rules, "global");
  const json* list = global != nullptr ? member(*global, kind) : nullptr;
  if (list == nullptr || !list->is_array()) return nullptr;
  auto index = index_of(*list, rule_id, false);
  return index ? &(*list)[*index] : nullptr;
}

json* find_push_rule(json& rules, std::string_view kind, std::string_view rule_id) {
  return const_cast<json*>(find_push_rule(static_cast<const json&>(rules), kind, rule_id));
}

void check_user_rule_id(std::string_view kind, std::string_view rule_id) {
  if (rule_id.empty() || rule_id.size() > kMaxRuleIdBytes) {
    invalid(fmt::format("A rule ID must be 1 to {} bytes long", kMaxRuleIdBytes));
  }
  if (is_server_default_rule_id(rule_id)) {
    invalid("Rule IDs starting with '.' are reserved for server-default rules");
  }
  if (rule_id.find_first_of("/\\") != std::string_view::npos) {
    invalid("Rule IDs may not contain '/' or '\\'");
  }
  if (kind == "room" && !is_valid_room_id(rule_id)) {
    invalid("The rule ID of a room rule must be a room ID");
  }
  if (kind == "sender" && !parse_user_id(rule_id)) {
    invalid("The rule ID of a sender rule must be a user ID");
  }
}

void check_actions(const json& actions) {
  if (!actions.is_array()) bad_json("'actions' must be an array");
  for (const json& action : actions) {
    if (action.is_string()) {
      const auto& name = action.get_ref<const std::string&>();
      if (name != "notify" && name != "dont_notify" && name != "coalesce") {
        invalid(fmt::format("Unknown push rule action '{}'", name));
      }
    } else if (action.is_object()) {
      const json* tweak = member(action, "set_tweak");
      if (tweak == nullptr) invalid("An action object must have 'set_tweak'");
      if (!tweak->is_string()) bad_json("'set_tweak' must be a string");
      // The server itself reads highlight (for highlight counts), so its
      // value must mean something; other tweaks pass through untouched.
      const json* value = member(action, "value");
      if (*tweak == "highlight" && value != nullptr && !value->is_boolean()) {
        bad_json("The value of the highlight tweak must be a boolean");
      }
    } else {
      bad_json("Each action must be a string or an object");
    }
  }
}

json make_user_rule(std::string_view kind, std::string_view rule_id, const json& body) {
  const json* actions = member(body, "actions");
  if (actions == nullptr) throw PushRuleError("M_MISSING_PARAM", "'actions' is required");
  check_actions(*actions);
  json out{{"rule_id", rule_id}, {"default", false}, {"enabled", true}, {"actions", *actions}};
  if (kind == "override" || kind == "underride") {
    const json* conditions = member(body, "conditions");
    if (conditions == nullptr || conditions->is_null()) {
      out["conditions"] = json::array();
    } else {
      if (!conditions->is_array()) bad_json("'conditions' must be an array");
      for (const json& condition : *conditions) check_condition(condition);
      out["conditions"] = *conditions;
    }
  } else if (kind == "content") {
    const json& pattern = require_string(body, "pattern", "a content rule");
    if (pattern.get_ref<const std::string&>().empty()) invalid("'pattern' must not be empty");
    out["pattern"] = pattern;
  }
  return out;
}

void put_user_rule(json& rules, std::string_view kind, json rule,
                   const std::optional<std::string>& before,
                   const std::optional<std::string>& after) {
  json& list = kind_list(rules, kind);
  const std::string rule_id = rule.at("rule_id").get<std::string>();
  auto existing = index_of(list, rule_id, true);

  // Check the anchor before changing anything, and never against the rule
  // itself (it is about to move).
  const std::optional<std::string>& anchor = before ? before : after;
  if (anchor && (*anchor == rule_id || !index_of(list, *anchor, true))) {
    throw PushRuleError("M_UNKNOWN", fmt::format("before/after rule not found: {}", *anchor));
  }

  if (existing) {
    rule["enabled"] = list[*existing].at("enabled");
    if (!anchor) {
      list[*existing] = std::move(rule);
      return;
    }
    list.erase(list.begin() + static_cast<std::ptrdiff_t>(*existing));
  }

  std::size_t at = 0;
  if (anchor) {
    at = *index_of(list, *anchor, true) + (before ? 0 : 1);
  } else {
    while (at < list.size() && list[at].at("rule_id").get_ref<const std::string&>() == kMaster)
      ++at;
  }
  list.insert(list.begin() + static_cast<std::ptrdiff_t>(at), std::move(rule));
}

bool remove_user_rule(json& rules, std::string_view kind, std::string_view rule_id) {
  json& list = kind_list(rules, kind);
  auto index = index_of(list, rule_id, true);
  if (!index) return false;
  list.erase(list.begin() + static_cast<std::ptrdiff_t>(*index));
  return true;
}

}  // namespace eltrix::matrix
