// Push rules (spec: "Push Rules: API"): GET /pushrules/ and /pushrules/global/,
// and GET/PUT/DELETE /pushrules/global/{kind}/{ruleId} with its /enabled and
// /actions. Only the "global" scope exists.
//
// A user's rules live in their global account data as m.push_rules, holding
// the whole merged ruleset (user rules plus the server-default rules with the
// user's enabled/actions changes), so /sync delivers every change with the
// account data and no separate table is needed. The ruleset is re-merged with
// the current server defaults on every read (matrix::merge_push_rules()).
#pragma once

#include "http/router.h"
#include "storage/database.h"

#include <nlohmann/json.hpp>

#include <string>

namespace eltrix::client {

struct Context;

/// The account data type holding the ruleset.
inline constexpr const char* kPushRulesType = "m.push_rules";

/// The user's effective push rules, as m.push_rules content
/// ({"global": {...}}): the stored ruleset merged with the current
/// server-default rules, or just those defaults when nothing is stored.
/// Only reads, in the caller's transaction.
nlohmann::json push_rules_for(storage::Transaction& tx, const std::string& user_id);

void add_push_rules_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
