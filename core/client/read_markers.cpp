#include "client/read_markers.h"

#include "client/json_body.h"
#include "client/user_data_common.h"
#include "notify/notifier.h"
#include "storage/database.h"
#include "storage/user_data.h"

namespace eltrix::client {

namespace {

/// The stream position of the event the stored m.fully_read points at (0
/// when there is none or it no longer resolves).
std::int64_t fully_read_stream(storage::Transaction& tx, const std::string& user_id,
                               const std::string& room_id) {
  auto stored = storage::get_account_data(tx, user_id, room_id, "m.fully_read");
  if (!stored) return 0;
  auto content = nlohmann::json::parse(*stored, nullptr, false);
  if (!content.is_object() || !content.contains("event_id") || !content["event_id"].is_string()) {
    return 0;
  }
  return storage::event_stream_in_room(tx, room_id, content["event_id"].get<std::string>())
      .value_or(0);
}

}  // namespace

void set_read_markers(Context& ctx, const std::string& user_id, const std::string& room_id,
                      const ReadMarkers& markers) {
  if (!markers.fully_read && !markers.read && !markers.read_private) return;
  if (!is_joined(ctx, room_id, user_id)) throw forbidden("You are not joined to this room");

  struct Woken {
    bool user = false;
    bool room = false;
  };
  auto woken = ctx.db.write([&](storage::Transaction& tx) {
    Woken out;
    auto stream_of = [&](const std::string& event_id) {
      auto stream = storage::event_stream_in_room(tx, room_id, event_id);
      if (!stream) throw not_found("Event " + event_id + " not found in this room");
      return *stream;
    };
    // Every event is resolved first, so a 404 changes nothing.
    std::optional<std::int64_t> fully_read_at;
    std::optional<std::int64_t> read_at;
    std::optional<std::int64_t> private_at;
    if (markers.fully_read) fully_read_at = stream_of(*markers.fully_read);
    if (markers.read) read_at = stream_of(*markers.read);
    if (markers.read_private) private_at = stream_of(*markers.read_private);

    if (fully_read_at) {
      storage::lock_account_data(tx, user_id, room_id);
      if (*fully_read_at > fully_read_stream(tx, user_id, room_id)) {
        nlohmann::json content{{"event_id", *markers.fully_read}};
        storage::put_account_data(tx, user_id, room_id, "m.fully_read", content.dump());
        out.user = true;
      }
    }
    std::int64_t ts = now_ms();
    std::string thread = markers.thread_id.value_or("");
    if (read_at) {
      storage::Receipt receipt{room_id, user_id, "m.read", thread, *markers.read, ts, 0};
      if (storage::put_receipt(tx, receipt, *read_at)) out.room = true;
    }
    if (private_at) {
      storage::Receipt receipt{room_id, user_id, "m.read.private", thread, *markers.read_private,
                               ts,      0};
      if (storage::put_receipt(tx, receipt, *private_at)) out.user = true;
    }
    return out;
  });
  std::vector<std::string> keys;
  if (woken.user) keys.push_back(notify::user_key(user_id));
  if (woken.room) keys.push_back(notify::room_key(room_id));
  if (!keys.empty()) wake(ctx, keys);
}

void add_read_marker_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/rooms/{roomId}/read_markers",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string room_id = require_room_id(req.path_param("roomId"));
               ReadMarkers markers;
               markers.fully_read = optional_string(req.json(), "m.fully_read");
               markers.read = optional_string(req.json(), "m.read");
               markers.read_private = optional_string(req.json(), "m.read.private");
               set_read_markers(ctx, who.user_id, room_id, markers);
               return http::Response::json(200, nlohmann::json::object());
             },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
