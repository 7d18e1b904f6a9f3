#include "client/tags.h"

#include "client/json_body.h"
#include "client/user_data_common.h"
#include "storage/database.h"
#include "storage/user_data.h"

#include <fmt/format.h>

namespace eltrix::client {

namespace {

constexpr const char* kOthersTags = "Cannot access the tags of other users";

/// The "tags" object of stored m.tag content ({} when absent or malformed:
/// m.tag may also have been written through the account data API).
nlohmann::json tags_of(const std::optional<std::string>& content) {
  if (!content) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(*content, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return nlohmann::json::object();
  auto it = parsed.find("tags");
  if (it == parsed.end() || !it->is_object()) return nlohmann::json::object();
  return *it;
}

std::string require_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagBytes) {
    throw invalid_param(fmt::format("A tag must be 1 to {} bytes long", kMaxTagBytes));
  }
  return std::string(tag);
}

/// Read-modify-write of m.tag under the account data lock, so two devices
/// tagging at once both keep their tag. `change` returns false for no change.
template <typename Change>
void update_tags(Context& ctx, const std::string& user_id, const std::string& room_id,
                 Change&& change) {
  bool changed = ctx.db.write([&](storage::Transaction& tx) {
    storage::lock_account_data(tx, user_id, room_id);
    auto stored = storage::get_account_data(tx, user_id, room_id, "m.tag");
    nlohmann::json tags = tags_of(stored);
    if (!change(tags)) return false;
    nlohmann::json content{{"tags", std::move(tags)}};
    storage::put_account_data(tx, user_id, room_id, "m.tag", content.dump());
    return true;
  });
  if (changed) wake_user(ctx, user_id);
}

}  // namespace

void add_tag_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string user_id = require_self(who, req.path_param("userId"), kOthersTags);
               std::string room_id = require_room_id(req.path_param("roomId"));
               auto stored = read_own(ctx, [&](storage::Transaction& tx) {
                 return storage::get_account_data(tx, user_id, room_id, "m.tag");
               });
               return http::Response::json(200, {{"tags", tags_of(stored)}});
             });

  router.add(
      "PUT", "/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}",
      [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        std::string user_id = require_self(who, req.path_param("userId"), kOthersTags);
        std::string room_id = require_room_id(req.path_param("roomId"));
        std::string tag = require_tag(req.path_param("tag"));
        const nlohmann::json& body = req.json();
        if (auto order = body.find("order"); order != body.end() && !order->is_number()) {
          throw_bad_json("order", "a number");
        }
        update_tags(ctx, user_id, room_id, [&](nlohmann::json& tags) {
          if (!tags.contains(tag) && tags.size() >= kMaxTagsPerRoom) {
            throw invalid_param(fmt::format("A room can have at most {} tags", kMaxTagsPerRoom));
          }
          tags[tag] = body;
          return true;
        });
        return http::Response::json(200, nlohmann::json::object());
      },
      {.body = http::BodyMode::json, .max_body = 64 * 1024});

  router.add("DELETE", "/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string user_id = require_self(who, req.path_param("userId"), kOthersTags);
               std::string room_id = require_room_id(req.path_param("roomId"));
               std::string tag = require_tag(req.path_param("tag"));
               // Removing a tag that is not there succeeds, as deleting is
               // idempotent; nothing is written then.
               update_tags(ctx, user_id, room_id,
                           [&](nlohmann::json& tags) { return tags.erase(tag) > 0; });
               return http::Response::json(200, nlohmann::json::object());
             });
}

}  // namespace eltrix::client
