// Deleting rooms: DELETE /_synapse/admin/v2/rooms/{id} (in the background,
// admin/room_deletions.h) with its delete_status queries, and the older
// synchronous DELETE /_synapse/admin/v1/rooms/{id}.
#include "admin/areas.h"
#include "admin/params.h"
#include "admin/room_deletions.h"
#include "matrix/ids.h"
#include "storage/accounts.h"
#include "storage/admin_rooms.h"

namespace eltrix::admin {
namespace {

/// Synapse keeps finished deletions queryable for a day.
constexpr std::int64_t kStatusKeptMs = 24 * 60 * 60 * 1000;

RoomDeletionRequest parse(Context& ctx, http::Request& req) {
  RoomDeletionRequest request;
  request.room_id = room_param(req);
  request.requester = req.requester().user_id;
  const nlohmann::json body = body_object(req);
  request.block = body_bool(body, "block").value_or(false);
  request.purge = body_bool(body, "purge").value_or(true);
  request.force_purge = body_bool(body, "force_purge").value_or(false);
  if (auto owner = body_string(body, "new_room_user_id", 255)) {
    auto parsed = matrix::parse_user_id(*owner);
    if (!parsed || parsed->server != ctx.server_name ||
        !matrix::is_valid_new_localpart(parsed->localpart)) {
      throw invalid_param("User must be our own: " + *owner);
    }
    request.new_room_user_id = *owner;
  }
  if (auto name = body_string(body, "room_name", 255)) request.room_name = *name;
  if (auto message = body_string(body, "message", 65536)) request.message = *message;
  const bool known = ctx.db.read([&](storage::Transaction& tx) {
    return storage::find_admin_room(tx, request.room_id, ctx.server_name).has_value();
  });
  // An unknown room can still be blocked (before anyone here joins it).
  if (!known && !request.block) throw not_found("Room not found");
  return request;
}

nlohmann::json status_json(const storage::RoomDeletion& d, bool with_id) {
  nlohmann::json out = {{"status", d.status}};
  if (with_id) out["delete_id"] = d.delete_id;
  if (d.error) out["error"] = *d.error;
  nlohmann::json result = nlohmann::json::object();
  if (d.result_json) result = nlohmann::json::parse(*d.result_json, nullptr, false);
  if (!result.is_object() || result.empty()) {
    result = {{"kicked_users", nlohmann::json::array()},
              {"failed_to_kick_users", nlohmann::json::array()},
              {"local_aliases", nlohmann::json::array()},
              {"new_room_id", nullptr}};
  }
  out["shutdown_room"] = result;
  return out;
}

}  // namespace

void add_room_deletion_routes(http::Router& router, Context& ctx) {
  const AreaRoutes on(router, ctx);
  using enum http::BodyMode;
  on(
      "DELETE", "/_synapse/admin/v2/rooms/{roomId}",
      [](Context& ctx, http::Request& req) {
        const std::string id = ctx.deletions->schedule(parse(ctx, req));
        return http::Response::json(200, nlohmann::json{{"delete_id", id}});
      },
      raw);
  on(
      "DELETE", "/_synapse/admin/v1/rooms/{roomId}",
      [](Context& ctx, http::Request& req) {
        return http::Response::json(200, ctx.deletions->run_now(parse(ctx, req)));
      },
      raw);
  on(
      "GET", "/_synapse/admin/v2/rooms/delete_status/{deleteId}",
      [](Context& ctx, http::Request& req) {
        const std::string id(req.path_param("deleteId"));
        auto found = ctx.db.read(
            [&](storage::Transaction& tx) { return storage::find_room_deletion(tx, id); });
        if (!found || found->created_ts < storage::now_ms() - kStatusKeptMs) {
          throw not_found("delete id '" + id + "' not found");
        }
        return http::Response::json(200, status_json(*found, false));
      },
      none);
  on(
      "GET", "/_synapse/admin/v2/rooms/{roomId}/delete_status",
      [](Context& ctx, http::Request& req) {
        const std::string room_id = room_param(req);
        auto all = ctx.db.read([&](storage::Transaction& tx) {
          return storage::room_deletions_of(tx, room_id, storage::now_ms() - kStatusKeptMs);
        });
        if (all.empty()) throw not_found("No delete task for room_id '" + room_id + "' found");
        nlohmann::json results = nlohmann::json::array();
        for (const auto& d : all) results.push_back(status_json(d, true));
        return http::Response::json(200, nlohmann::json{{"results", results}});
      },
      none);
}

}  // namespace eltrix::admin
