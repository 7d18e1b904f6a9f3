#include "client/notifications.h"

#include "client/auth.h"
#include "client/context.h"
#include "client/json_body.h"
#include "rooms/event_store.h"
#include "rooms/visibility.h"
#include "storage/push_notifications.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <memory>

namespace eltrix::client {

namespace {

using json = nlohmann::json;

/// Synapse's default page; the bound keeps one request's reads small.
constexpr std::size_t kDefaultLimit = 50;
constexpr std::size_t kMaxLimit = 100;

std::size_t limit_param(const http::Request& req) {
  auto text = req.query("limit");
  if (!text) return kDefaultLimit;
  std::size_t limit = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (ec != std::errc() || ptr != text->data() + text->size()) {
    throw invalid_param("'limit' must be a non-negative integer");
  }
  return std::clamp<std::size_t>(limit, 1, kMaxLimit);
}

/// `from` is a next_token handed out before: the stream position of the
/// last notification of that page.
std::int64_t from_param(const http::Request& req) {
  auto text = req.query("from");
  if (!text || text->empty()) return std::numeric_limits<std::int64_t>::max();
  std::int64_t from = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), from);
  if (ec != std::errc() || ptr != text->data() + text->size()) {
    throw invalid_param("Invalid 'from' token");
  }
  return from;
}

http::Response list(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::size_t limit = limit_param(req);
  const std::int64_t from = from_param(req);
  const auto only = req.query("only");
  const bool only_highlight = only && *only == "highlight";
  const auto now = rooms::now_ms();
  // On the primary: the notifications are written there moments after the
  // event, and a client polling this expects to see them.
  return ctx.db.read_latest([&](storage::Transaction& tx) {
    auto rows = storage::list_notifications(tx, who.user_id, from, limit + 1, only_highlight);
    const bool more = rows.size() > limit;
    if (more) rows.resize(limit);
    std::map<std::string, std::unique_ptr<rooms::Visibility>> visibility;
    std::map<std::string, std::optional<std::int64_t>> read_to;
    json out = json::array();
    for (const auto& n : rows) {
      auto event = rooms::load_event(tx, n.event_id);
      if (!event) continue;  // purged since
      auto& seen = visibility[n.room_id];
      if (!seen) seen = std::make_unique<rooms::Visibility>(tx, n.room_id, who.user_id);
      // The one visibility check: a member who was joined when the event
      // notified them could see it then, but the room's history visibility
      // or their membership may have changed since.
      if (!seen->can_see(*event)) continue;
      if (!read_to.contains(n.room_id)) {
        read_to[n.room_id] = storage::read_up_to(tx, who.user_id, n.room_id);
      }
      const auto& receipt = read_to[n.room_id];
      out.push_back({{"actions", json::parse(n.actions, nullptr, false)},
                     {"event", rooms::client_event(*event, who.user_id, who.device_id, now)},
                     {"profile_tag", nullptr},
                     {"read", receipt && *receipt >= n.stream},
                     {"room_id", n.room_id},
                     {"ts", n.ts}});
    }
    json body = {{"notifications", std::move(out)}};
    if (more) body["next_token"] = std::to_string(rows.back().stream);
    return http::Response::json(200, body);
  });
}

}  // namespace

void add_notifications_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/notifications",
             [&ctx](http::Request& req) { return list(ctx, req); });
}

}  // namespace eltrix::client
