// Push rules (spec: client-server API, "Push Rules" and "Predefined Rules",
// v1.11): the server-default ruleset of a user, merging a user's stored
// ruleset with it, and building/validating the rules clients send. Pure.
//
// A ruleset here is always the content of the m.push_rules account data,
// {"global": {"override": [...], "content": [...], "room": [...],
// "sender": [...], "underride": [...]}}, which is also what GET /pushrules/
// returns. Within each kind the order is the priority order: user-defined
// rules come before server-default ones, except that .m.rule.master stays
// first of all (spec: "Predefined Rules").
#pragma once

#include "errors/error.h"

#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace eltrix::matrix {

/// The kinds of rule, in the order the server checks them.
inline constexpr std::array<std::string_view, 5> kPushRuleKinds = {"override", "content", "room",
                                                                   "sender", "underride"};

bool is_push_rule_kind(std::string_view kind);

/// Server-default rule IDs start with '.'; clients cannot create such rules.
bool is_server_default_rule_id(std::string_view rule_id);

/// A rule a client sent that the server refuses: invalid input with the
/// Matrix errcode to answer with (so HTTP 400) and a message for the client.
class PushRuleError : public errors::Error {
 public:
  PushRuleError(std::string errcode, const std::string& message)
      : errors::Error(errors::Kind::invalid, std::move(errcode), message) {}
};

/// The predefined ruleset of spec v1.11 for `user_id`, in the spec's order:
/// {"global": {...}} with "default": true on every rule. invite_for_me and
/// is_user_mention name the user ID; contains_user_name matches its localpart.
nlohmann::json default_push_rules(std::string_view user_id);

/// The effective ruleset from `stored` (m.push_rules content; null or
/// malformed parts count as absent): the stored user-defined rules in their
/// order, then the current server-default rules with the stored "enabled" and
/// "actions" of each (the rest of a default rule always comes from
/// default_push_rules(), so stored copies cannot change its conditions).
/// Stored server-default rules this server no longer defines are dropped, and
/// so are malformed or duplicate user rules.
nlohmann::json merge_push_rules(const nlohmann::json& stored, std::string_view user_id);

/// The rule of `kind` with `rule_id` in a merged ruleset, or nullptr.
const nlohmann::json* find_push_rule(const nlohmann::json& rules, std::string_view kind,
                                     std::string_view rule_id);
nlohmann::json* find_push_rule(nlohmann::json& rules, std::string_view kind,
                               std::string_view rule_id);

/// Checks a rule ID a client wants to create under `kind` (a valid kind):
/// non-empty, at most 255 bytes, no '/' or '\', not starting with '.'; a room
/// rule's ID must be a room ID and a sender rule's a user ID (the spec: the
/// rule_id "is always" that ID). Throws PushRuleError M_INVALID_PARAM.
void check_user_rule_id(std::string_view kind, std::string_view rule_id);

/// Checks an "actions" array: strings "notify" (and the historical no-ops
/// "dont_notify" and "coalesce", accepted as the spec asks) or objects with a
/// string "set_tweak" (a "highlight" tweak's value must be a boolean). Throws
/// PushRuleError: M_BAD_JSON for wrong types, M_INVALID_PARAM for unknown
/// actions.
void check_actions(const nlohmann::json& actions);

/// The user-defined rule a PUT body describes (check_user_rule_id() first):
/// {"rule_id", "default": false, "enabled": true, "actions"} plus
/// "conditions" (override/underride; absent means [] — always matches) or
/// "pattern" (content, required). Keys that do not apply to `kind` are
/// ignored. Throws PushRuleError: M_MISSING_PARAM when a required key is
/// absent, M_BAD_JSON for a wrong type, M_INVALID_PARAM for a bad value.
nlohmann::json make_user_rule(std::string_view kind, std::string_view rule_id,
                              const nlohmann::json& body);

/// Adds `rule` (from make_user_rule()) to the merged `rules` under `kind`,
/// or updates the user rule with its rule_id, keeping that rule's "enabled".
/// `before` places it just before the named user rule (and wins over
/// `after`), `after` just after; with neither a new rule becomes the most
/// important user rule and an updated one keeps its place. Throws
/// PushRuleError M_UNKNOWN (as the spec's example) when `before`/`after`
/// names no other user-defined rule of this kind (server-default rules cannot
/// be anchors).
void put_user_rule(nlohmann::json& rules, std::string_view kind, nlohmann::json rule,
                   const std::optional<std::string>& before,
                   const std::optional<std::string>& after);

/// Removes the user-defined rule; false when there is none (server-default
/// rules are never removed).
bool remove_user_rule(nlohmann::json& rules, std::string_view kind, std::string_view rule_id);

}  // namespace eltrix::matrix
