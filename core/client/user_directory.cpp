#include "client/user_directory.h"

#include "client/auth.h"
#include "client/json_body.h"
#include "storage/database.h"
#include "storage/directory.h"

#include <fmt/format.h>

#include <algorithm>

namespace eltrix::client {

namespace {

// Longest search term accepted: user IDs are at most 255 bytes, and display
// names of any use are shorter still.
constexpr std::size_t kMaxSearchTermBytes = 256;

http::Response search(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const auto& body = req.json();
  const std::string term = require_string(body, "search_term");
  if (term.size() > kMaxSearchTermBytes) {
    throw invalid_param(fmt::format("'search_term' is longer than {} bytes", kMaxSearchTermBytes));
  }
  std::size_t limit = kUserSearchDefaultLimit;
  if (auto requested = optional_int(body, "limit")) {
    if (*requested < 1) throw invalid_param("'limit' must be at least 1");
    limit = std::min(static_cast<std::size_t>(*requested), kUserSearchMaxLimit);
  }

  // A replica may serve this: who shares rooms with whom changes through
  // joins, and a search that misses a join by a moment is harmless.
  auto found = ctx.db.read([&](storage::Transaction& tx) {
    return storage::search_users(tx, who.user_id, term, limit);
  });

  nlohmann::json results = nlohmann::json::array();
  for (const auto& user : found.users) {
    nlohmann::json entry = {{"user_id", user.user_id}};
    if (user.display_name && !user.display_name->empty())
      entry["display_name"] = *user.display_name;
    if (user.avatar_url && !user.avatar_url->empty()) entry["avatar_url"] = *user.avatar_url;
    results.push_back(std::move(entry));
  }
  return http::Response::json(200,
                              nlohmann::json{{"results", results}, {"limited", found.limited}});
}

}  // namespace

void add_user_directory_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/user_directory/search",
             [&ctx](http::Request& req) { return search(ctx, req); },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
