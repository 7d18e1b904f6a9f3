#include "client/push_rules.h"

#include "client/account_data.h"
#include "client/auth.h"
#include "client/context.h"
#include "client/json_body.h"
#include "client/user_data_common.h"
#include "matrix/push_rules.h"
#include "storage/user_data.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

namespace eltrix::client {

using nlohmann::json;

json push_rules_for(storage::Transaction& tx, const std::string& user_id) {
  auto stored = storage::get_account_data(tx, user_id, "", kPushRulesType);
  json parsed = nullptr;
  // A stored ruleset that does not parse counts as none: the user then gets
  // the defaults rather than an error on every sync.
  if (stored) parsed = json::parse(*stored, nullptr, false);
  if (parsed.is_discarded()) parsed = nullptr;
  return matrix::merge_push_rules(parsed, user_id);
}

namespace {

constexpr const char* kBase = "/_matrix/client/v3/pushrules/";
constexpr const char* kRuleNotFound = "The push rule was not found.";
/// A rule body is a few conditions and actions; this leaves ample room.
constexpr std::size_t kMaxRuleBodyBytes = 64 * 1024;

struct RulePath {
  std::string kind;
  std::string rule_id;
};

/// {scope}/{kind}/{ruleId} of the path: the spec has only the "global" scope
/// left (device scopes were removed), and five kinds.
RulePath rule_path(const http::Request& req) {
  if (req.path_param("scope") != "global") {
    throw invalid_param("Unknown push rule scope: only 'global' exists");
  }
  std::string kind(req.path_param("kind"));
  if (!matrix::is_push_rule_kind(kind)) {
    throw invalid_param(fmt::format("Unknown push rule kind '{}'", kind));
  }
  return {std::move(kind), std::string(req.path_param("ruleId"))};
}

json load_rules(Context& ctx, const std::string& user_id) {
  return read_own(ctx, [&](storage::Transaction& tx) { return push_rules_for(tx, user_id); });
}

const json& require_rule(const json& rules, const RulePath& path) {
  const json* rule = matrix::find_push_rule(rules, path.kind, path.rule_id);
  if (rule == nullptr) throw not_found(kRuleNotFound);
  return *rule;
}

json& require_rule(json& rules, const RulePath& path) {
  json* rule = matrix::find_push_rule(rules, path.kind, path.rule_id);
  if (rule == nullptr) throw not_found(kRuleNotFound);
  return *rule;
}

/// Read-modify-write of the stored ruleset under the account data lock, so
/// two devices changing rules at once both keep their change. `change` edits
/// the merged ruleset (and may throw to refuse); a change that leaves it as
/// it was writes nothing. The transaction may be retried, so `change` must
/// only touch its argument.
template <typename Change>
void update_rules(Context& ctx, const std::string& user_id, Change&& change) {
  bool changed = ctx.db.write([&](storage::Transaction& tx) {
    storage::lock_account_data(tx, user_id, "");
    json rules = push_rules_for(tx, user_id);
    const json unchanged = rules;
    change(rules);  // a rule the pure layer refuses is its PushRuleError (400)
    if (rules == unchanged) return false;
    std::string content = rules.dump();
    // Bounded like any account data, as /sync sends it whole.
    if (content.size() > kMaxAccountDataBytes) {
      throw invalid_param("Too many push rules");
    }
    storage::put_account_data(tx, user_id, "", kPushRulesType, content);
    return true;
  });
  if (changed) wake_user(ctx, user_id);
}

/// A query parameter; an empty value counts as absent.
std::optional<std::string> nonempty_query(const http::Request& req, std::string_view name) {
  auto value = req.query(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

http::Response empty_ok() {
  return http::Response::json(200, json::object());
}

}  // namespace

void add_push_rules_routes(http::Router& router, Context& ctx) {
  const std::string base = kBase;
  const std::string rule = base + "{scope}/{kind}/{ruleId}";
  const http::RouteOptions json_body{.body = http::BodyMode::json, .max_body = kMaxRuleBodyBytes};

  // The pattern ends in '/', so its last segment is a literal empty one:
  // exactly the path the spec names (and matrix-js-sdk calls).
  router.add("GET", base, [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    return http::Response::json(200, load_rules(ctx, who.user_id));
  });

  router.add("GET", base + "global/", [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    return http::Response::json(200, load_rules(ctx, who.user_id).at("global"));
  });

  router.add("GET", rule, [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    RulePath path = rule_path(req);
    const json rules = load_rules(ctx, who.user_id);
    return http::Response::json(200, require_rule(rules, path));
  });

  router.add(
      "PUT", rule,
      [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        RulePath path = rule_path(req);
        matrix::check_user_rule_id(path.kind, path.rule_id);
        json new_rule = matrix::make_user_rule(path.kind, path.rule_id, req.json());
        auto before = nonempty_query(req, "before");
        auto after = nonempty_query(req, "after");
        update_rules(ctx, who.user_id, [&](json& rules) {
          matrix::put_user_rule(rules, path.kind, new_rule, before, after);
        });
        return empty_ok();
      },
      json_body);

  router.add("DELETE", rule, [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    RulePath path = rule_path(req);
    update_rules(ctx, who.user_id, [&](json& rules) {
      require_rule(rules, path);
      // Server-default rules can only be disabled (PUT .../enabled).
      if (matrix::is_server_default_rule_id(path.rule_id)) {
        throw invalid_param("Server-default push rules cannot be deleted");
      }
      matrix::remove_user_rule(rules, path.kind, path.rule_id);
    });
    return empty_ok();
  });

  router.add("GET", rule + "/enabled", [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    RulePath path = rule_path(req);
    const json rules = load_rules(ctx, who.user_id);
    return http::Response::json(200, {{"enabled", require_rule(rules, path).at("enabled")}});
  });

  router.add(
      "PUT", rule + "/enabled",
      [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        RulePath path = rule_path(req);
        auto enabled = optional_bool(req.json(), "enabled");
        if (!enabled) throw http::MatrixError(400, "M_MISSING_PARAM", "'enabled' is required");
        update_rules(ctx, who.user_id,
                     [&](json& rules) { require_rule(rules, path)["enabled"] = *enabled; });
        return empty_ok();
      },
      json_body);

  router.add("GET", rule + "/actions", [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    RulePath path = rule_path(req);
    const json rules = load_rules(ctx, who.user_id);
    return http::Response::json(200, {{"actions", require_rule(rules, path).at("actions")}});
  });

  router.add(
      "PUT", rule + "/actions",
      [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        RulePath path = rule_path(req);
        const json& body = req.json();
        auto it = body.find("actions");
        if (it == body.end() || it->is_null()) {
          throw http::MatrixError(400, "M_MISSING_PARAM", "'actions' is required");
        }
        const json& actions = *it;
        matrix::check_actions(actions);
        update_rules(ctx, who.user_id,
                     [&](json& rules) { require_rule(rules, path)["actions"] = actions; });
        return empty_ok();
      },
      json_body);
}

}  // namespace eltrix::client
